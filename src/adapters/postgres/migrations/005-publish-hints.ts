/**
 * Publish hints: when a frontend last reported a message published to a queue
 * (through the dispatcher). A release or a count taken before that time cannot
 * clear has_messages.
 */
export const name = '005-publish-hints';

export const sql = `
ALTER TABLE queue_registry ADD COLUMN hinted_at timestamptz;
`;
