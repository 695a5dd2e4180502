export { Pleg, type PlegOptions, type RelistResult } from './pleg.js';
