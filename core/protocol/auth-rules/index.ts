/** The room authorisation rules: one entry point per question callers ask. */
export { checkEventAuth, resolveRoomVersion } from './check-event-auth.js';
export { checkAuthEventsList, checkEventAgainstAuthEvents } from './auth-events-rules.js';
export { checkCreateEvent, checkRoomIdNamesCreate, createEventIdForRoomId } from './create-rules.js';
export type { AuthCheckOptions, AuthEvent, AuthRejection, AuthResult, AuthStateLookup } from './types.js';
