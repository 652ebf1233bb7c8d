import { messageHash } from './message-hash.js';

export interface SubscriptionRefView {
  topic: string;
  account: string;
  validity_ts: number;
}

export interface EnvelopeInput {
  trigger: string;
  message: string;
  twin: string;
  event: Record<string, unknown>;
  sequence: number;
  subscription: SubscriptionRefView;
  /** The subscription's token URL (refresh and unsubscribe are the same URL, by method). */
  url: string;
}

/** Trusted Twin's notification envelope with Twindex's `sequence` (docs/notifications.md "Messages"). */
export function notificationEnvelope(
  input: EnvelopeInput,
  sentTs: number,
  hashKey: Uint8Array | undefined,
): Record<string, unknown> {
  const message: Record<string, unknown> = {
    type: 'Notification',
    trigger: input.trigger,
    message: input.message,
    twin: input.twin,
    event: input.event,
    sent_ts: sentTs,
    sequence: input.sequence,
    subscription: input.subscription,
    refresh_url: input.url,
    unsubscribe_url: input.url,
  };
  if (hashKey) message.hash = messageHash(message, hashKey);
  return message;
}

export function confirmationEnvelope(
  message: string,
  subscription: SubscriptionRefView,
  url: string,
  sentTs: number,
  hashKey: Uint8Array | undefined,
): Record<string, unknown> {
  const out: Record<string, unknown> = {
    type: 'SubscriptionConfirmation',
    message,
    sent_ts: sentTs,
    confirmation_url: url,
    subscription,
  };
  if (hashKey) out.hash = messageHash(out, hashKey);
  return out;
}

/** `max_batch` > 1: several messages in one POST, each with its own hash (a Twindex extension). */
export function batchEnvelope(messages: readonly Record<string, unknown>[]): Record<string, unknown> {
  return { type: 'Notifications', notifications: messages };
}
