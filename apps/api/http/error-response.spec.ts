import { badRequest } from '../../../libs/domain/errors.js';
import { cutLongInput, toErrorResponse } from './error-response.js';

describe('error descriptions', () => {
  it('cuts a long run of input to its first 100 characters and an ellipsis', () => {
    const name = `RFID#${'x'.repeat(1000)}`;
    const cut = cutLongInput(`Identity '${name}' is not a valid name`);
    expect(cut).toBe(`Identity '${name.slice(0, 99)}… is not a valid name`);
  });

  it('leaves an ordinary description alone, a valid name of the greatest length included', () => {
    const text = 'Identity RFID#abc is not a valid name';
    expect(cutLongInput(text)).toBe(text);
    const longest = `Identity '${'S'.repeat(8)}#${'v'.repeat(128)}' already exists`;
    expect(cutLongInput(longest)).toBe(longest);
  });

  it("answers Fastify's path failures in our words, without the path", () => {
    const path = `/twins/${'b'.repeat(2000)}`;
    const tooLong = Object.assign(new URIError(`'${path}' is exceeding the max param length`), {
      code: 'FST_ERR_MAX_PARAM_LENGTH',
      statusCode: 414,
    });
    expect(toErrorResponse(tooLong, 't').body).toEqual({
      subcode: 'path_too_long',
      description: 'A path segment is longer than 1024 characters',
      trace: 't',
    });
  });

  it('cuts input echoed by a domain error', () => {
    const { body } = toErrorResponse(
      badRequest('invalid_identity', `Identity '${'y'.repeat(500)}' is bad`),
      't',
    );
    expect(body.description.length).toBeLessThan(130);
  });
});
