export { parseQuantityOrThrow as parseQuantity, quantityValue, quantityMilliValue, type QuantityInput } from '../../util/quantity.js';
export * from './qos.js';
export * from './resources.js';
export * from './namespaces.js';
export * from './security-context.js';
export * from './labels.js';
export * from './sysctls.js';
