// ProxyProtocolDecoder: signatures, missing headers, limits and end of stream, and the chunking law over random splits.
import fc from 'fast-check';
import {
  ProxyHeaderMissingError,
  ProxyHeaderTooLongError,
  ProxyProtocolError,
  InvalidArgumentError,
} from '../../lib/errors';
import { PROXY_V2_SIGNATURE } from '../../lib/proxy/ProxyHeader';
import { ProxyProtocolDecoder, type ProxyProtocolDecoderOptions } from '../../lib/proxy/ProxyProtocolDecoder';
import { encodeProxyHeader } from '../../lib/proxy/encodeProxyHeader';
import { byteByByte, chunkingsOf, errorData } from '../support/framing';
import { decode, v2, whole } from '../support/proxyHeaders';

describe('ProxyProtocolDecoder', () => {
  describe('limits and end of stream', () => {
    it('v1: raises ProxyHeaderTooLongError when no CRLF comes within 107 bytes, without waiting for more', () => {
      const line = `PROXY UNKNOWN ${'x'.repeat(93)}\r\n`;
      expect(line.length).toBe(109);
      expect(decode([Buffer.from(line.slice(0, 107), 'latin1')], {}, false).error).toEqual(
        errorData(new ProxyHeaderTooLongError(1, 107, 108)),
      );
    });

    it('v2: raises ProxyHeaderTooLongError from the announced length, before the body is buffered', () => {
      expect(decode([v2('21 11 ffff')], {}, false).error).toEqual(
        errorData(new ProxyHeaderTooLongError(2, 4096, 16 + 0xffff)),
      );
      expect(decode([v2('21 11 0100')], { maxHeaderLength: 100 }, false).error).toEqual(
        errorData(new ProxyHeaderTooLongError(2, 100, 16 + 0x100)),
      );
      // The protocol's own maximum is accepted when allowed.
      const body = Buffer.alloc(0xffff);
      const bytes = Buffer.concat([v2('21 00 ffff'), body]);
      expect(whole(bytes, { maxHeaderLength: 16 + 0xffff }).header?.length).toBe(16 + 0xffff);
    });

    it('v1: raises ProxyProtocolError when the stream ends inside the line (full.subarray(0, -1))', () => {
      const full = Buffer.from('PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\n');
      expect(whole(full.subarray(0, -1)).error).toEqual(
        errorData(new ProxyProtocolError(1, `stream ended after ${full.length - 1} byte(s), before the CRLF`)),
      );
    });

    it('v2: raises ProxyProtocolError when the stream ends inside the header', () => {
      const full = v2('21 11 000c c0a80001 c0a8000b dc04 01bb');
      expect(whole(full.subarray(0, -1)).error).toEqual(
        errorData(new ProxyProtocolError(2, 'stream ended after 27 of 28 header byte(s)')),
      );
      expect(whole(full.subarray(0, 14)).error).toEqual(
        errorData(new ProxyProtocolError(2, 'stream ended after 14 byte(s), inside the fixed header')),
      );
    });
  });

  describe('missing header', () => {
    it('raises ProxyHeaderMissingError at the first byte that fits no signature, when required', () => {
      expect(decode([Buffer.from('G')], {}, false).error).toEqual(errorData(new ProxyHeaderMissingError('47')));
      expect(whole('GET / HTTP/1.1\r\nHost: example.com\r\n').error).toEqual(
        errorData(new ProxyHeaderMissingError('47')),
      );
      expect(whole('PROXZ TCP4').error).toEqual(errorData(new ProxyHeaderMissingError('50524f585a')));
      expect(whole('').error).toEqual(errorData(new ProxyHeaderMissingError('')));
      expect(whole('\r\n\r\n\0\r\nQUIT').error).toEqual(
        errorData(new ProxyHeaderMissingError('0d0a0d0a000d0a51554954')),
      );
    });

    it('waits while the bytes are a prefix of a signature', () => {
      expect(decode([Buffer.from('PROXY')], {}, false)).toEqual({});
      expect(decode([PROXY_V2_SIGNATURE.subarray(0, 11)], {}, false)).toEqual({});
    });

    it('passes every byte through when the header is optional', () => {
      expect(whole('GET / HTTP/1.1\r\n', { required: false })).toEqual({ payload: 'GET / HTTP/1.1\r\n' });
      expect(decode([Buffer.from('PROX'), Buffer.from('IMA'), Buffer.from('TE')], { required: false })).toEqual({
        payload: 'PROXIMATE',
      });
      // A partial signature at the end of the stream is data, not a truncated header.
      expect(whole('PRO', { required: false })).toEqual({ payload: 'PRO' });
      expect(whole('', { required: false })).toEqual({ payload: '' });
      // A header is still decoded, and must be valid once its signature is complete.
      expect(whole('PROXY UNKNOWN\r\nz', { required: false })).toMatchObject({ header: { version: 1 }, payload: 'z' });
      expect(whole('PROXY TCP9\r\n', { required: false }).error).toMatchObject({
        name: 'ProxyProtocolError',
        code: 'ERR_PROXY_PROTOCOL',
      });
    });
  });

  it('checks its options when created', () => {
    expect(() => new ProxyProtocolDecoder({ maxHeaderLength: 15 })).toThrow(InvalidArgumentError);
    expect(() => new ProxyProtocolDecoder({ maxHeaderLength: 16 + 0x10000 })).toThrow(InvalidArgumentError);
    expect(() => new ProxyProtocolDecoder({ required: 'yes' as unknown as boolean })).toThrow(InvalidArgumentError);
  });

  it('refuses push() once it has decided', () => {
    const decoder = new ProxyProtocolDecoder();
    decoder.push(Buffer.from('PROXY UNKNOWN\r\n'));
    expect(decoder.read()).toBeDefined();
    expect(decoder.done).toBe(true);
    expect(() => decoder.push(Buffer.from('x'))).toThrow(/after the header was decoded/);
  });

  it('hands back a view of the last chunk, not a copy, for the bytes after the header', () => {
    const chunk = Buffer.from('PROXY UNKNOWN\r\nabc');
    const decoder = new ProxyProtocolDecoder();
    decoder.push(chunk);
    const rest = decoder.read()!.rest;
    expect(rest.buffer).toBe(chunk.buffer);
    expect(rest.toString()).toBe('abc');
  });

  describe('the chunking law: the result does not depend on how the bytes were cut', () => {
    // Every row has its three cells: jest.each would take a missing third for a done callback.
    const fixtures: Array<[string, Buffer, ProxyProtocolDecoderOptions]> = [
      ['v1 TCP4', Buffer.from('PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\nGET /\r\n'), {}],
      ['v1 TCP6', Buffer.from('PROXY TCP6 2001:db8::1 ::1 65535 1\r\nbody'), {}],
      ['v1 UNKNOWN', Buffer.from('PROXY UNKNOWN whatever\r\n'), {}],
      ['v2 TCP4', Buffer.concat([v2('21 11 000c c0a80001 c0a8000b dc04 01bb'), Buffer.from('hello')]), {}],
      [
        'v2 TLVs',
        Buffer.concat([v2('21 11 0013 c0a80001 c0a8000b dc04 01bb 01 0002 6832 04 0000'), Buffer.from('x')]),
        {},
      ],
      ['v2 LOCAL', Buffer.concat([v2('20 00 0000'), Buffer.from('ping')]), {}],
      ['v1 bad port', Buffer.from('PROXY TCP4 1.2.3.4 5.6.7.8 99999 2\r\nxx'), {}],
      ['v1 too long', Buffer.from(`PROXY UNKNOWN ${'x'.repeat(200)}\r\n`), {}],
      ['v2 too long', v2('21 11 2000'), {}],
      ['v2 TLV overrun', v2('21 11 0011 c0a80001 c0a8000b dc04 01bb 01 0005 6832'), {}],
      ['truncated v2', v2('21 11 000c c0a80001 c0a8000b dc04'), {}],
      ['missing (required)', Buffer.from('GET / HTTP/1.1\r\n'), {}],
      ['missing (optional)', Buffer.from('PROXIMA CENTAURI'), { required: false }],
      ['partial signature (optional)', PROXY_V2_SIGNATURE.subarray(0, 9), { required: false }],
    ];

    it.each(fixtures)('%s: 1-byte and empty chunks give the same result as one chunk', (_, bytes, options) => {
      expect(decode(byteByByte(bytes), options)).toEqual(decode([bytes], options));
    });

    it.each(fixtures)('%s: random splits give the same result as one chunk', (_, bytes, options) => {
      const expected = decode([bytes], options);
      fc.assert(
        fc.property(chunkingsOf(bytes), (chunks) => {
          expect(decode(chunks, options)).toEqual(expected);
        }),
        { numRuns: 200 },
      );
    });

    it('one chunk holding the header and thousands of messages keeps them all, uncopied', () => {
      const payload = Buffer.from('line\n'.repeat(5000));
      const header = encodeProxyHeader({
        source: { address: '10.0.0.1', port: 1 },
        destination: { address: '10.0.0.2', port: 2 },
      });
      const decoded = decode([Buffer.concat([header, payload])]);
      expect(decoded.payload).toBe(payload.toString('latin1'));
    });
  });
});
