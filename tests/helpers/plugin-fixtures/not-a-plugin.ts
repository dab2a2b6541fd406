/** Fixture: a module whose default export is not a plugin definition. */
export default 'not a plugin';
