import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { dateInputFormat, parseDateInput } from '../../../renderer/format';

describe('parseDateInput (issue 11 #14: "01/07/2026" is 1 July, by the UI’s explicit format)', () => {
  it('reads day first as the UI says, and ISO as is', () => {
    assert.equal(parseDateInput('01/07/2026'), '2026-07-01');
    assert.equal(parseDateInput('1.7.2026'), '2026-07-01');
    assert.equal(parseDateInput('31/01/2026 14:05'), '2026-01-31T14:05:00');
    assert.equal(parseDateInput('2026-07-01'), '2026-07-01');
    assert.equal(parseDateInput('2026-07-01 10:30:00'), '2026-07-01T10:30:00');
  });
  it('refuses what is not a real date rather than guessing', () => {
    for (const bad of ['07/31/2026', '31/02/2026', '2026-13-01', 'yesterday', '1/7/26', ''])
      assert.equal(parseDateInput(bad), null, bad);
  });
  it('says the format in the UI’s language', () => {
    assert.equal(dateInputFormat('en'), 'DD/MM/YYYY');
    assert.equal(dateInputFormat('fr'), 'JJ/MM/AAAA');
  });
});
