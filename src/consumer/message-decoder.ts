/**
 * One readings message from the broker -> what the store needs, or the reason
 * it can never be stored (it then goes to the dead-letter queue).
 */
import { headersToMeta } from '../core/message.js';
import { checkReadingsBody } from '../core/readings-body.js';
import type { StoreMessage } from './readings-store.js';

export interface RawMessage {
  content: Buffer;
  headers: Record<string, unknown> | undefined;
  messageId: string | undefined;
  timestamp: number | undefined;
}

export type Decoded = { ok: true; message: StoreMessage } | { ok: false; reason: string };

/** `account` is the account whose queue the message came from. */
export function decodeReadingsMessage(raw: RawMessage, account: string, now = Date.now()): Decoded {
  const meta = headersToMeta(raw.headers);
  if (meta.sourceKey === undefined || meta.sourceKey === '')
    return { ok: false, reason: 'missing x-source-key header' };
  const body = checkReadingsBody(raw.content);
  if (!body.ok) {
    return {
      ok: false,
      reason:
        body.kind === 'malformed'
          ? `body is not JSON: ${body.reason}`
          : body.kind === 'too-large'
            ? body.reason
            : body.index < 0
              ? body.reason
              : `reading ${body.index}: ${body.reason}`,
    };
  }
  return {
    ok: true,
    message: {
      messageId: raw.messageId,
      sourceKey: meta.sourceKey,
      account: meta.account ?? account,
      body,
      receivedAt: meta.receivedAt ?? (raw.timestamp ? raw.timestamp * 1000 : now),
      valueCount: body.values,
    },
  };
}
