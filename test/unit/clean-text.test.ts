import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cleanText } from '../../app/core/clean-text';
import { EngineError, toWireError } from '../../app/core/engine-error';

const ESC = '\u001b';
const BEL = '\u0007';

describe('cleanText: what a remote server says, made safe for a terminal or the UI (issue 11 #5)', () => {
  it('removes terminal titles, screen clears, cursor moves and OSC 8 links, keeping the words', () => {
    const hostile = `${ESC}]0;pwned${BEL}${ESC}[2J${ESC}[1;1HDatabase ${ESC}]8;;http://evil.example${BEL}medic${ESC}]8;;${BEL} failed${ESC}]8;;http://x${ESC}\\ here${ESC}]8;;${ESC}\\`;
    assert.equal(cleanText(hostile), 'Database medic failed here');
  });

  it('removes 8-bit C1 sequences, other control characters, carriage returns and bidi overrides', () => {
    assert.equal(cleanText('a\u009b2Jb\u009d0;title\u0007c\u0085d\u0000e\u007ff'), 'abcdef');
    assert.equal(cleanText('ok\rFAKE'), 'okFAKE');
    assert.equal(cleanText('file\u202Etxt.exe'), 'filetxt.exe');
    assert.equal(cleanText(`${ESC}P1$r${ESC}\\x`), 'x');
  });

  it('keeps every script, tabs and new lines (or flattens them for one line), and is idempotent', () => {
    const words = 'Détails : base « medic » — 数据库 — ملف\tok\nnext';
    assert.equal(cleanText(words), words);
    assert.equal(cleanText(words, { multiline: false }), 'Détails : base « medic » — 数据库 — ملف ok next');
    assert.equal(cleanText(cleanText(`${ESC}[31mred`)), 'red');
  });

  it('every engine error and wire error is cleaned, whatever built it', () => {
    const fromServer = new EngineError('COUCH_SERVER', `The server said: ${ESC}]0;owned${BEL}boom${ESC}[2J`, {
      details: { reason: `${ESC}[5mx` },
    });
    const wire = fromServer.toWire();
    assert.equal(wire.message, 'The server said: boom');
    assert.deepEqual(wire.details, { reason: 'x' });
    assert.equal(toWireError(new Error(`${ESC}]8;;http://evil${BEL}click${ESC}]8;;${BEL}`)).message, 'click');
  });
});
