// Hisaab: checks in the browser, with WebCrypto, what the server says.
//  - the checkpoint's Ed25519 signature (a C2SP signed note) against the pinned log key;
//  - a receipt's RFC 9162 inclusion proof against the root of its signed checkpoint.
// No library, no network: only crypto.subtle (Ed25519, SHA-256).
'use strict';
(function () {
  const PIN = 'hisaab.pinned-vkey';
  const enc = new TextEncoder();

  function fromBase64(text) {
    const bin = atob(text);
    const out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  }
  function fromHex(text) {
    if (!/^[0-9a-f]{64}$/.test(text)) throw new Error('not a SHA-256 hash in lowercase hex: ' + String(text).slice(0, 80));
    const out = new Uint8Array(32);
    for (let i = 0; i < 32; i++) out[i] = parseInt(text.substr(2 * i, 2), 16);
    return out;
  }
  function toHex(bytes) {
    return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
  }
  function concat(...parts) {
    const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) { out.set(p, at); at += p.length; }
    return out;
  }
  function equal(a, b) {
    return a.length === b.length && a.every((x, i) => x === b[i]);
  }
  async function sha256(bytes) {
    return new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
  }

  // A C2SP verifier key: name+hexid+base64(0x01 || 32-byte Ed25519 key).
  async function parseVkey(vkey) {
    const parts = String(vkey).trim().split('+');
    if (parts.length !== 3) throw new Error('a log key has the form name+id+key');
    const [name, id, keyText] = parts;
    let raw;
    try { raw = fromBase64(keyText); } catch (e) { throw new Error('the key part is not base64'); }
    if (raw.length !== 33 || raw[0] !== 1) throw new Error('the key is not an Ed25519 note key');
    const keyId = (await sha256(concat(enc.encode(name), Uint8Array.of(0x0a), raw))).slice(0, 4);
    if (toHex(keyId) !== id) throw new Error('the key id ' + id + ' does not match the key');
    return { name, keyId, key: raw.slice(1) };
  }

  // Verifies a signed note with the pinned key; returns the checkpoint it signs.
  async function verifyNote(note, vkey) {
    const pinned = await parseVkey(vkey);
    const split = note.indexOf('\n\n');
    if (split < 0) throw new Error('not a signed note (no blank line before the signatures)');
    const text = note.slice(0, split + 1);
    const lines = note.slice(split + 2).split('\n').filter((l) => l.length > 0);
    let found = false;
    for (const line of lines) {
      const m = /^\u2014 (\S+) (\S+)$/.exec(line);
      if (!m || m[1] !== pinned.name) continue;
      const sig = fromBase64(m[2]);
      if (sig.length !== 68 || !equal(sig.slice(0, 4), pinned.keyId)) continue;
      found = true;
      const key = await crypto.subtle.importKey('raw', pinned.key, { name: 'Ed25519' }, false, ['verify']);
      if (await crypto.subtle.verify({ name: 'Ed25519' }, key, sig.slice(4), enc.encode(text))) {
        const body = text.split('\n');
        return { origin: body[0], size: Number(body[1]), root: fromBase64(body[2]), rootText: body[2] };
      }
    }
    throw new Error(found
      ? 'the signature by ' + pinned.name + ' does NOT verify: the checkpoint was not signed by the pinned key'
      : 'no signature by the pinned key ' + pinned.name + ' (this checkpoint was signed by another key)');
  }

  // RFC 9162 §2.1.3.2: the root an inclusion proof gives for a leaf.
  async function rootFromInclusion(index, size, leaf, proof) {
    if (!(index < size)) throw new Error('seq ' + index + ' is not in a tree of size ' + size);
    let fn = index, sn = size - 1, r = leaf;
    for (const p of proof) {
      if (sn === 0) throw new Error('the proof is too long');
      if (fn % 2 === 1 || fn === sn) {
        r = await sha256(concat(Uint8Array.of(1), p, r));
        if (fn % 2 === 0) {
          while (fn % 2 === 0 && fn !== 0) { fn = Math.floor(fn / 2); sn = Math.floor(sn / 2); }
        }
      } else {
        r = await sha256(concat(Uint8Array.of(1), r, p));
      }
      fn = Math.floor(fn / 2); sn = Math.floor(sn / 2);
    }
    if (sn !== 0) throw new Error('the proof is too short');
    return r;
  }

  function pinnedKey(fallback) {
    try { return localStorage.getItem(PIN) || fallback; } catch (e) { return fallback; }
  }
  function say(el, ok, text) {
    el.textContent = text;
    el.classList.remove('ok', 'fail');
    el.classList.add(ok ? 'ok' : 'fail');
    el.dataset.result = ok ? 'ok' : 'fail';
  }

  // Every page: the checkpoint it was computed from.
  async function checkFooter() {
    const el = document.getElementById('checkpoint-check');
    if (!el) return;
    const vkey = pinnedKey(el.dataset.vkey);
    try {
      const cp = await verifyNote(el.dataset.note, vkey);
      const same = cp.size === Number(el.dataset.size);
      const rootMatches = !same || cp.rootText === el.dataset.root;
      if (!rootMatches) throw new Error('the signed root differs from the root this page shows');
      say(el, true, 'Verified in your browser: the checkpoint of size ' + cp.size +
        ' is signed by the pinned log key ' + vkey.split('+')[0] +
        (same ? ', and this page was computed at that size.' : '; this page is as of size ' + el.dataset.size + ', an earlier tree of that log.'));
    } catch (e) {
      say(el, false, 'NOT verified: ' + e.message);
    }
  }

  async function checkPinned() {
    const input = document.getElementById('pin-vkey');
    const out = document.getElementById('pin-result');
    if (!input || !out) return;
    try {
      const cp = await verifyNote(out.dataset.note, input.value);
      say(out, true, 'Signature verified: ' + cp.origin + ', size ' + cp.size + ', root ' + cp.rootText +
        ' is signed by ' + input.value.trim().split('+')[0] + '.');
    } catch (e) {
      say(out, false, 'Signature NOT verified: ' + e.message);
    }
  }

  async function checkReceipt() {
    const area = document.getElementById('receipt');
    const out = document.getElementById('receipt-result');
    const input = document.getElementById('pin-vkey');
    if (!area || !out || !input) return;
    try {
      let receipt;
      try { receipt = JSON.parse(area.value); } catch (e) { throw new Error('the receipt is not JSON'); }
      if (typeof receipt !== 'object' || receipt === null) throw new Error('the receipt is not a JSON object');
      if (!Number.isSafeInteger(receipt.seq) || receipt.seq < 0) throw new Error('the receipt has no seq');
      if (typeof receipt.checkpoint !== 'string') throw new Error('the receipt has no checkpoint');
      if (!Array.isArray(receipt.inclusion_proof)) throw new Error('the receipt has no inclusion_proof');
      const cp = await verifyNote(receipt.checkpoint, input.value);
      const leaf = fromHex(receipt.event_hash);
      const proof = receipt.inclusion_proof.map(fromHex);
      const root = await rootFromInclusion(receipt.seq, cp.size, leaf, proof);
      if (!equal(root, cp.root)) throw new Error('the inclusion proof gives root ' + toHex(root) + ', not the signed root');
      say(out, true, 'Included: entry ' + receipt.seq + ' (event hash ' + receipt.event_hash +
        ') is in the tree of size ' + cp.size + ' signed by ' + input.value.trim().split('+')[0] + '.');
    } catch (e) {
      say(out, false, 'NOT included: ' + e.message);
    }
  }

  // Signing in: the key file is read and used here only. The PEM's DER is PKCS#8, which
  // WebCrypto imports for Ed25519; the signed message is SPEC §13.2's.
  async function signIn(event) {
    event.preventDefault();
    const out = document.getElementById('signin-result');
    const say = (result, text) => { out.dataset.result = result; out.textContent = text; };
    try {
      const member = document.getElementById('signin-member').value.trim();
      const file = document.getElementById('signin-key').files[0];
      if (!member || !file) { say('fail', 'Give your member id and your key file.'); return; }
      const pem = await file.text();
      const body = pem.replace(/-----(BEGIN|END) [A-Z ]+-----/g, '').replace(/\s+/g, '');
      if (/ENCRYPTED/.test(pem)) { say('fail', 'This key file is encrypted: sign in with `hisaab login`, which asks for its passphrase.'); return; }
      const key = await crypto.subtle.importKey('pkcs8', fromBase64(body), { name: 'Ed25519' }, false, ['sign']);
      const challenge = await (await fetch('/v1/session/challenge', { method: 'POST' })).json();
      const note = await (await fetch('/v1/checkpoint')).text();
      const origin = note.split('\n')[0];
      const message = enc.encode('hisaab-session-v1\n' + origin + '\n' + challenge.challenge);
      const signature = new Uint8Array(await crypto.subtle.sign({ name: 'Ed25519' }, key, message));
      const answer = await fetch('/v1/session', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ member, challenge: challenge.challenge, signature: btoa(String.fromCharCode(...signature)) }),
      });
      const result = await answer.json();
      if (!answer.ok) { say('fail', 'Not signed in: ' + (result.error ? result.error.message : answer.status)); return; }
      say('ok', 'Signed in as ' + member + ' (' + result.reader + ') until ' + result.expires_at + '. Every page now shows what your role may read.');
      const next = document.getElementById('signin-next');
      if (next) next.hidden = false;
    } catch (e) {
      say('fail', 'Not signed in: ' + e.message);
    }
  }

  function setUp() {
    checkFooter();
    const signin = document.getElementById('signin-form');
    if (signin) signin.addEventListener('submit', signIn);
    const input = document.getElementById('pin-vkey');
    if (input) {
      const pin = new URLSearchParams(location.search).get('pin');
      input.value = pin || pinnedKey(input.value);
      document.getElementById('pin-check').addEventListener('click', checkPinned);
      document.getElementById('pin-save').addEventListener('click', () => {
        try { localStorage.setItem(PIN, input.value.trim()); } catch (e) { /* storage off */ }
        checkPinned(); checkFooter();
      });
      document.getElementById('pin-forget').addEventListener('click', () => {
        try { localStorage.removeItem(PIN); } catch (e) { /* storage off */ }
        input.value = input.defaultValue; checkPinned(); checkFooter();
      });
      document.getElementById('receipt-check').addEventListener('click', checkReceipt);
      checkPinned();
      const hash = location.hash;
      if (hash.startsWith('#receipt=')) {
        document.getElementById('receipt').value = decodeURIComponent(hash.slice('#receipt='.length));
        checkReceipt();
      }
    }
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', setUp);
  else setUp();
})();
