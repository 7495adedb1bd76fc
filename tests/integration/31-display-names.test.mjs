// 31 - display-name spoofing (issue 14 item 10, server half): names made
// only of invisible or blank characters, and names with bidi controls, are
// refused at sign-up and on change; usernames are plain ASCII.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startServer, NO_RATE_LIMIT } from './lib/server.mjs';
import { HttpClient, User, expectError, expectStatus, uniqueName } from './lib/client.mjs';

const INVISIBLE = {
  'U+200B zero width space': '\u200B',
  'U+3164 Hangul filler': '\u3164\u3164',
  'NBSP': '\u00A0\u00A0',
  'U+202E alone': '\u202E',
  'U+061C alone': '\u061C',
  'U+2800 blank braille': '\u2800',
  'U+FEFF and U+2060': '\uFEFF\u2060',
  'ideographic space and tab-like spaces': '\u3000\u2003\u2009',
};
const BIDI = {
  'RLO inside': 'ab\u202Ecd',
  'ALM inside': 'ab\u061Ccd',
  'LRI..PDI': '\u2066x\u2069',
  'RLM at the end': 'alice\u200F',
};

describe('31 display names', { timeout: 60000 }, () => {
  let srv;
  before(async () => {
    srv = await startServer({ args: NO_RATE_LIMIT });
  });
  after(async () => {
    await srv?.stop();
  });

  it('sign-up refuses names with nothing visible and names with bidi controls', async () => {
    for (const [what, name] of Object.entries({ ...INVISIBLE, ...BIDI })) {
      const res = await new HttpClient(srv).post('/api/signup', { username: uniqueName('n'), password: 'a fine password', display_name: name });
      expectError(res, 400, 'bad_display_name', `${what}:`);
    }
  });

  it('changing the name refuses them too; ordinary names, other scripts and emoji sequences are kept', async () => {
    const u = await User.signup(srv, uniqueName('c'));
    for (const [what, name] of Object.entries({ ...INVISIBLE, ...BIDI })) {
      expectError(await u.http.patch('/api/me', { display_name: name }), 400, 'bad_display_name', `${what}:`);
    }
    for (const name of ['Élodie', 'مريم', '👩‍💻 dev', 'a\u200Bb']) {
      const res = expectStatus(await u.http.patch('/api/me', { display_name: name }), 200, `${name}:`);
      assert.equal(res.json.user?.display_name ?? res.json.display_name, name);
    }
  });

  it('usernames allow no invisible, blank or bidi characters', async () => {
    for (const name of ['al\u200Bice', 'ali\u202Ece', 'bob\u00A0', '\u3164bob']) {
      expectError(await new HttpClient(srv).post('/api/signup', { username: name, password: 'a fine password' }), 400, 'bad_username', JSON.stringify(name));
    }
  });
});
