/** Both translator registries; import the one you need directly to load only its code. */
export { BRICK_TRANSLATORS } from './brick-registry.js';
export { CLIENT_PASSTHROUGHS, CLIENT_TRANSLATORS } from './client-registry.js';
