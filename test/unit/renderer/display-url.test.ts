import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { displayUrl } from '../../../renderer/format';

describe('displayUrl (issue 11 #13: the Review page never shows credentials typed into the address)', () => {
  it('removes the user and password, keeps the user to say "as <user>"', () => {
    assert.deepEqual(displayUrl('http://analyst:S3cr3tZebra@cht.example.org:5988'), {
      url: 'http://cht.example.org:5988',
      user: 'analyst',
    });
    assert.deepEqual(displayUrl(' https://analyst:Pa@ss/Zebra@cht.example.org/ '), {
      url: 'https://cht.example.org/',
      user: 'analyst',
    });
    assert.deepEqual(displayUrl('https://a%40b:x@h.example'), { url: 'https://h.example', user: 'a@b' });
    assert.deepEqual(displayUrl('https://cht.example.org'), { url: 'https://cht.example.org', user: null });
  });
});
