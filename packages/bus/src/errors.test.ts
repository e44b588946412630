import { describe, expect, it } from 'vitest';
import {
  BusErrorCode,
  BusOperationError,
  BusPublishFailedError,
  RetryLaterError,
  busErrorData,
} from './errors';

describe('bus errors', () => {
  it('round-trip as data to the same named class', () => {
    const error = new BusPublishFailedError('no ack');
    const back = BusOperationError.fromData(error.toData());
    expect(back).toBeInstanceOf(BusPublishFailedError);
    expect(back?.code).toBe(BusErrorCode.PublishFailed);
    expect(back?.name).toBe('BusPublishFailedError');
  });

  it('gives null for codes that are not the bus', () => {
    expect(BusOperationError.fromData({ code: 'BRIDGE_TOPIC_CLOSED', message: 'x' })).toBeNull();
  });

  it("keeps a domain error's own code and labels anything else BUS_HANDLER_FAILED", () => {
    const domain = Object.assign(new Error('closed'), { code: 'BRIDGE_TOPIC_CLOSED' });
    expect(busErrorData(domain)).toEqual({ code: 'BRIDGE_TOPIC_CLOSED', message: 'closed' });
    expect(busErrorData(new TypeError('bad'))).toEqual({
      code: 'BUS_HANDLER_FAILED',
      message: 'bad',
    });
    expect(busErrorData('text')).toEqual({ code: 'BUS_HANDLER_FAILED', message: 'text' });
    expect(busErrorData(new RetryLaterError('later', 5)).code).toBe('BUS_RETRY_LATER');
  });
});
