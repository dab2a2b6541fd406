/**
 * Users' push rules, their changes to server-default rules, the push-rules change stream, and the
 * notifications produced by evaluating events (the source of unread counts and GET /notifications).
 */
import type { Knex } from 'knex';
import type { Migration } from '../../../../core/define-module.js';

export const pushRulesMigration: Migration = {
  name: '20261123120000_push_rules',
  async up(knex: Knex) {
    await knex.schema.createTable('push_rules_rules', (t) => {
      t.string('user_id').notNullable().comment('Owner of the rule');
      t.string('kind').notNullable().comment('override, content, room, sender or underride');
      t.string('rule_id').notNullable().comment('Unique within the kind');
      t.integer('priority').notNullable().comment('Order within the kind: lower is more important');
      t.text('conditions').comment('JSON array of conditions (override and underride)');
      t.text('pattern').comment('Glob pattern (content rules)');
      t.text('actions').notNullable().comment('JSON array of actions');
      t.boolean('enabled').notNullable().comment('Disabled rules never match');
      t.primary(['user_id', 'kind', 'rule_id']);
    });
    await knex.schema.createTable('push_rules_defaults', (t) => {
      t.string('user_id').notNullable().comment('The user who changed a server-default rule');
      t.string('kind').notNullable().comment('Kind of the default rule');
      t.string('rule_id').notNullable().comment('The default rule (starts with a dot)');
      t.boolean('enabled').comment('Overridden enabled flag, or NULL for the default');
      t.text('actions').comment('Overridden JSON actions, or NULL for the default');
      t.primary(['user_id', 'kind', 'rule_id']);
    });
    await knex.schema.createTable('push_rules_changes', (t) => {
      t.string('user_id').primary().comment('A user whose rules changed');
      t.bigInteger('stream_position')
        .notNullable()
        .comment('Position of their last change in the push_rules stream');
      t.index(['stream_position'], 'push_rules_changes_stream');
    });
    await knex.schema.createTable('push_rules_stream', (t) => {
      t.integer('id').primary().comment('Always 1: a single-row counter');
      t.bigInteger('position').notNullable().comment('The newest position handed out');
    });
    // Position 1 stands for the server-default rules every user starts with: an incremental sync then always
    // has a `from` of at least 1, and only an initial sync (from 0) sends rules that never changed.
    await knex('push_rules_stream').insert({ id: 1, position: 1 });
    await knex.schema.createTable('push_rules_notifications', (t) => {
      t.bigIncrements('id').comment('Insertion order, the pagination key of GET /notifications');
      t.string('user_id').notNullable().comment('Who was notified');
      t.string('room_id').notNullable().comment('Room of the event');
      t.string('event_id').notNullable().comment('The event');
      t.bigInteger('stream_ordering').notNullable().comment("The event's position in the events stream");
      t.string('thread_id').notNullable().comment("'main' or the thread root's event id");
      t.text('actions').notNullable().comment('JSON actions of the matching rule');
      t.integer('notify').notNullable().comment('1 when the actions include notify');
      t.integer('highlight').notNullable().comment('1 when the actions highlight');
      t.boolean('read')
        .notNullable()
        .defaultTo(false)
        .comment('Cleared by a read receipt at or after the event');
      t.bigInteger('ts').notNullable().comment('When the notification was generated (ms since the epoch)');
      t.unique(['user_id', 'event_id'], { indexName: 'push_rules_notifications_user_event' });
      // Unread counts: one index range per user and room.
      t.index(['user_id', 'room_id', 'read', 'stream_ordering'], 'push_rules_notifications_unread');
      t.index(['user_id', 'id'], 'push_rules_notifications_user_id');
    });
  },
  async down(knex: Knex) {
    await knex.schema.dropTableIfExists('push_rules_notifications');
    await knex.schema.dropTableIfExists('push_rules_stream');
    await knex.schema.dropTableIfExists('push_rules_changes');
    await knex.schema.dropTableIfExists('push_rules_defaults');
    await knex.schema.dropTableIfExists('push_rules_rules');
  },
};
