import { describe, expect, it } from 'vitest';
import { MAX_REDIRECT_URI_CHARS, redirectUriProblem } from './redirect-uris.js';

describe('redirectUriProblem', () => {
  it.each(['https://app.example/cb', 'https://app.example:8443/cb?x=1', 'http://127.0.0.1:4000/cb', 'http://localhost/cb', 'http://[::1]:9/cb'])(
    'accepts %s',
    (uri) => {
      expect(redirectUriProblem(uri)).toBeUndefined();
    },
  );

  it.each([
    ['http://app.example/cb', /https/],
    ['https://app.example/cb#x', /fragment/],
    ['/cb', /absolute/],
    ['javascript:alert(1)', /https/],
    ['https://u:p@app.example/cb', /user name/],
    ['https://app.example/c b', /spaces/],
    [`https://app.example/${'a'.repeat(MAX_REDIRECT_URI_CHARS)}`, /at most/],
  ])('refuses %s', (uri, problem) => {
    expect(redirectUriProblem(uri)).toMatch(problem);
  });
});
