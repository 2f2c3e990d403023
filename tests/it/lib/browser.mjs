#!/usr/bin/env node
// Headless Chromium for the tests: Debian's /usr/bin/chromium driven by
// playwright-core (never a browser download of its own), both installed by
// scripts/install-deps.sh --with-peers (playwright-core in PLUGHOLE_NODE_DIR,
// default /opt/plughole-node).
//
// As a module:
//   const b = await openBrowser({width: 375, height: 800});
//   await b.open('report.html');           // a path or a URL
//   await b.fill('#name', 'x'); await b.click('button'); await b.submit('form');
//   const t = await b.text('h1');
//   await b.screenshot('out.png');         // then checkPng('out.png')
//   b.problems()                           // console errors, page errors, failed requests
//   await b.close();
//
// As a command (exit 0 when clean, 1 on a problem, 2 on bad usage):
//   node browser.mjs shot URL|FILE OUT.png [--width N] [--height N] [--full]
//        [--self-contained] [--min-share F]
//   node browser.mjs text URL|FILE SELECTOR
//   node browser.mjs run URL|FILE STEPS.json   steps: [{"fill": sel, "value": v},
//        {"click": sel}, {"submit": sel}, {"goto": url}, {"wait": sel},
//        {"text": sel, "expect": substring}, {"shot": out.png}, {"fits": true}]
//        ("fits": the page is no wider than the viewport: nothing to scroll sideways)
//   node browser.mjs check-png FILE.png [--min-share F]
import { createRequire } from 'node:module';
import { mkdtempSync, rmSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { inflateSync } from 'node:zlib';

export const CHROMIUM = process.env.PLUGHOLE_CHROMIUM || '/usr/bin/chromium';
const NODE_DIR = process.env.PLUGHOLE_NODE_DIR || '/opt/plughole-node';

// The flags that work on a machine with a closed network: without the
// background-networking ones Chromium keeps trying Google's hosts.
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
	'--disable-background-networking', '--disable-component-update', '--disable-sync'];

// The share of pixels that must differ from the most common colour for a
// screenshot to count as drawn (a blank or single-colour page has none).
export const DEFAULT_MIN_SHARE = 0.01;

function playwright()
{
	const require = createRequire(join(NODE_DIR, 'node_modules', 'index.js'));
	try {
		return require('playwright-core');
	} catch (e) {
		throw new Error(`playwright-core not found in ${NODE_DIR}: run scripts/install-deps.sh --with-peers`);
	}
}

export function toUrl(target)
{
	if (/^[a-z]+:/i.test(target))
		return target;
	return pathToFileURL(resolve(target)).href;
}

export async function openBrowser({ width = 1024, height = 768 } = {})
{
	if (!existsSync(CHROMIUM))
		throw new Error(`${CHROMIUM} not found: run scripts/install-deps.sh --with-peers`);
	const profile = mkdtempSync(join(tmpdir(), 'plughole-chromium-'));
	let context;
	try {
		context = await playwright().chromium.launchPersistentContext(profile, {
			executablePath: CHROMIUM, headless: true, args: FLAGS,
			viewport: { width, height }, timeout: 30000,
		});
	} catch (e) {
		rmSync(profile, { recursive: true, force: true });
		throw e;
	}
	const page = context.pages()[0] || await context.newPage();
	const consoleErrors = [], pageErrors = [], failedRequests = [], requests = [];
	// The browser asks a web server for /favicon.ico on its own: not the page's doing.
	const own = u => /^https?:\/\/[^/]+\/favicon\.ico$/.test(u || '');
	page.on('console', m => {
		if (m.type() === 'error' && !own(m.location()?.url)) consoleErrors.push(m.text());
	});
	page.on('pageerror', e => pageErrors.push(String(e)));
	page.on('request', r => { if (!own(r.url())) requests.push(r.url()); });
	page.on('requestfailed', r => {
		if (!own(r.url())) failedRequests.push(`${r.url()}: ${r.failure()?.errorText}`);
	});
	page.on('response', r => {
		if (r.status() >= 400 && !own(r.url())) failedRequests.push(`${r.url()}: HTTP ${r.status()}`);
	});
	let main = null;
	return {
		page, context,
		async open(target) {
			main = toUrl(target);
			await page.goto(main, { waitUntil: 'load' });
		},
		fill: (selector, value) => page.fill(selector, value),
		click: selector => page.click(selector),
		// The next page's load event: waitForLoadState('load') returned at once, the
		// current page being loaded already, and a busy machine read the old page.
		async submit(selector = 'form') {
			const loaded = page.waitForEvent('load');
			await page.locator(selector).evaluate(f => f.requestSubmit ? f.requestSubmit() : f.submit());
			await loaded;
		},
		text: selector => page.locator(selector).first().innerText(),
		// How much wider than the viewport the page is (0: it fits).
		overflow: () => page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth),
		wait: selector => page.waitForSelector(selector),
		screenshot: (out, { full = false } = {}) => page.screenshot({ path: out, fullPage: full }),
		// Every request the page made besides the documents it was opened on.
		otherRequests: () => requests.filter(u => u !== main && u !== page.url()),
		problems: () => [...consoleErrors.map(e => `console error: ${e}`),
			...pageErrors.map(e => `page error: ${e}`),
			...failedRequests.map(e => `failed request: ${e}`)],
		async close() {
			await context.close();
			rmSync(profile, { recursive: true, force: true });
		},
	};
}

// A PNG decoder for what Chromium writes (8-bit greyscale, RGB, RGBA, grey+alpha;
// non-interlaced): returns {width, height, channels, pixels}.
export function decodePng(buf)
{
	const sig = [137, 80, 78, 71, 13, 10, 26, 10];
	if (buf.length < 8 || sig.some((b, i) => buf[i] !== b))
		throw new Error('not a PNG');
	let pos = 8, width = 0, height = 0, depth = 0, type = 0, interlace = 0;
	const idat = [];
	while (pos + 8 <= buf.length) {
		const len = buf.readUInt32BE(pos), kind = buf.toString('latin1', pos + 4, pos + 8);
		const data = buf.subarray(pos + 8, pos + 8 + len);
		if (kind === 'IHDR') {
			width = data.readUInt32BE(0); height = data.readUInt32BE(4);
			depth = data[8]; type = data[9]; interlace = data[12];
		} else if (kind === 'IDAT') {
			idat.push(data);
		} else if (kind === 'IEND') {
			break;
		}
		pos += 12 + len;
	}
	const channels = { 0: 1, 2: 3, 4: 2, 6: 4 }[type];
	if (depth !== 8 || !channels || interlace)
		throw new Error(`PNG of depth ${depth}, type ${type}, interlace ${interlace}: not decoded`);
	const raw = inflateSync(Buffer.concat(idat));
	const stride = width * channels;
	const pixels = Buffer.alloc(stride * height);
	for (let y = 0; y < height; y++) {
		const filter = raw[y * (stride + 1)];
		const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
		const out = pixels.subarray(y * stride, (y + 1) * stride);
		const up = y ? pixels.subarray((y - 1) * stride, y * stride) : Buffer.alloc(stride);
		for (let x = 0; x < stride; x++) {
			const a = x >= channels ? out[x - channels] : 0, b = up[x];
			const c = x >= channels ? up[x - channels] : 0;
			let p;
			switch (filter) {
			case 0: p = 0; break;
			case 1: p = a; break;
			case 2: p = b; break;
			case 3: p = (a + b) >> 1; break;
			case 4: {
				const e = a + b - c, pa = Math.abs(e - a), pb = Math.abs(e - b), pc = Math.abs(e - c);
				p = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
				break;
			}
			default: throw new Error(`PNG filter ${filter} on row ${y}`);
			}
			out[x] = (line[x] + p) & 0xff;
		}
	}
	return { width, height, channels, pixels };
}

// How much of an image is drawn: the number of colours and the share of
// pixels that differ from the most common one.
export function pngStats(buf)
{
	const { width, height, channels, pixels } = decodePng(buf);
	const counts = new Map();
	for (let i = 0; i < pixels.length; i += channels) {
		let key = 0;
		for (let c = 0; c < channels; c++)
			key = key * 256 + pixels[i + c];
		counts.set(key, (counts.get(key) || 0) + 1);
	}
	const total = width * height;
	const top = Math.max(...counts.values());
	return { width, height, colours: counts.size, otherShare: total ? (total - top) / total : 0 };
}

// Null when the PNG is drawn, else why not.
export function blankReason(buf, minShare = DEFAULT_MIN_SHARE)
{
	const s = pngStats(buf);
	if (s.colours < 2)
		return `one colour over ${s.width}x${s.height}`;
	if (s.otherShare < minShare)
		return `only ${(s.otherShare * 100).toFixed(3)} % of ${s.width}x${s.height} pixels differ ` +
			`from the background (want ${(minShare * 100).toFixed(3)} %)`;
	return null;
}

export function checkPng(file, minShare = DEFAULT_MIN_SHARE)
{
	return blankReason(readFileSync(file), minShare);
}

function parseOptions(args)
{
	const opts = { width: 1024, height: 768, full: false, selfContained: false, minShare: DEFAULT_MIN_SHARE };
	const rest = [];
	for (let i = 0; i < args.length; i++) {
		const a = args[i];
		const number = () => {
			const v = Number(args[++i]);
			if (!Number.isFinite(v) || v <= 0)
				throw new Error(`${a} wants a positive number`);
			return v;
		};
		if (a === '--width') opts.width = number();
		else if (a === '--height') opts.height = number();
		else if (a === '--min-share') opts.minShare = number();
		else if (a === '--full') opts.full = true;
		else if (a === '--self-contained') opts.selfContained = true;
		else if (a.startsWith('--')) throw new Error(`unknown option ${a}`);
		else rest.push(a);
	}
	return { opts, rest };
}

// Steps for 'run', one at a time; a failed 'expect' is a problem, not a throw.
async function runSteps(b, steps, problems)
{
	for (const s of steps) {
		if ('goto' in s) await b.open(s.goto);
		else if ('fill' in s) await b.fill(s.fill, String(s.value ?? ''));
		else if ('click' in s) await b.click(s.click);
		else if ('submit' in s) await b.submit(s.submit);
		else if ('wait' in s) await b.wait(s.wait);
		else if ('text' in s) {
			const t = await b.text(s.text);
			console.log(t);
			if (s.expect !== undefined && !t.includes(s.expect))
				problems.push(`${s.text}: expected "${s.expect}" in "${t}"`);
		} else if ('shot' in s) {
			await b.screenshot(s.shot, { full: !!s.full });
			const why = checkPng(s.shot);
			if (why) problems.push(`${s.shot}: blank: ${why}`);
		} else if ('fits' in s) {
			const over = await b.overflow();
			if (over > 0) problems.push(`the page is ${over} px wider than the viewport`);
		} else throw new Error(`unknown step ${JSON.stringify(s)}`);
	}
}

async function main(argv)
{
	const usage = 'usage: browser.mjs shot URL|FILE OUT.png [--width N] [--height N] [--full] ' +
		'[--self-contained] [--min-share F] | text URL|FILE SELECTOR | run URL|FILE STEPS.json | ' +
		'check-png FILE.png [--min-share F]';
	const [command, ...args] = argv;
	let parsed;
	try {
		parsed = parseOptions(args);
	} catch (e) {
		console.error(`browser.mjs: ${e.message}\n${usage}`);
		return 2;
	}
	const { opts, rest } = parsed;
	const want = { shot: 2, text: 2, run: 2, 'check-png': 1 }[command];
	if (!want || rest.length !== want) {
		console.error(usage);
		return 2;
	}
	if (command === 'check-png') {
		const why = checkPng(rest[0], opts.minShare);
		if (why) {
			console.error(`browser.mjs: ${rest[0]}: blank: ${why}`);
			return 1;
		}
		return 0;
	}
	const problems = [];
	const b = await openBrowser(opts);
	try {
		await b.open(rest[0]);
		if (command === 'shot') {
			await b.screenshot(rest[1], { full: opts.full });
			const why = checkPng(rest[1], opts.minShare);
			if (why) problems.push(`${rest[1]}: blank: ${why}`);
		} else if (command === 'text') {
			console.log(await b.text(rest[1]));
		} else {
			await runSteps(b, JSON.parse(readFileSync(rest[1], 'utf8')), problems);
		}
		if (opts.selfContained)
			for (const u of b.otherRequests())
				problems.push(`request beyond the document: ${u}`);
		problems.push(...b.problems());
	} finally {
		await b.close();
	}
	for (const p of problems)
		console.error(`browser.mjs: ${p}`);
	return problems.length ? 1 : 0;
}

if (import.meta.url === pathToFileURL(process.argv[1] || '').href) {
	main(process.argv.slice(2)).then(code => process.exit(code), e => {
		console.error(`browser.mjs: ${e.message}`);
		process.exit(1);
	});
}
