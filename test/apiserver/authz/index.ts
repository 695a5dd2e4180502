/** Authorization of the test API server: Node authorizer + default RBAC for node and kube-proxy identities, NodeRestriction. */
export { requestAttributes, type Attributes, type FieldTerm } from './attributes.js';
export { accessReview, authorize, decide, forbiddenError, isRestrictedUser } from './authorize.js';
export { authorizeNode, nodeIdentity, type Decision } from './node-authorizer.js';
export { admitNodeRestriction, forbiddenNodeLabels, type AdmissionRequest } from './node-restriction.js';
