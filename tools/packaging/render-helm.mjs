#!/usr/bin/env node
// A minimal `helm template` for the Go-template subset deploy/helm/vouch uses, so the deploy
// test (and a user without helm) can render the chart offline. Supported:
//   {{ pipeline }} with {{- -}} trimming and {{/* comments */}}; if / else if / else, with, range
//   (lists, and maps in key order), define / include; fields of . and $ (.Values, .Release,
//   .Chart, .Capabilities); string, number, bool literals; parenthesised pipelines; functions
//   include toYaml nindent indent quote squote default empty required printf trunc trimSuffix
//   trimPrefix replace lower upper toString int add sub mul div b64enc eq ne lt le gt ge not and or hasKey list.
// Anything else (variables, other functions) is an error, never a silent difference.
//
//   node tools/packaging/render-helm.mjs deploy/helm/vouch [--namespace NS] [--name NAME] [--set a.b=c]…
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { requireModule } from './modules.mjs';

const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);

// ---------- lexing and parsing ----------

/** Split a template into text and action tokens, applying {{- and -}} trimming. */
function lex(src, file) {
  const out = [];
  let i = 0;
  while (i < src.length) {
    const open = src.indexOf('{{', i);
    if (open < 0) {
      out.push({ t: 'text', v: src.slice(i) });
      break;
    }
    out.push({ t: 'text', v: src.slice(i, open) });
    let j = open + 2;
    const trimLeft = src.startsWith('- ', j) || src.startsWith('-\n', j);
    if (trimLeft) j += 1;
    // Find the closing braces, skipping string literals and comments.
    let k = j;
    let quote = null;
    for (; k < src.length; k++) {
      const ch = src[k];
      if (quote) {
        if (ch === '\\' && quote === '"') k++;
        else if (ch === quote) quote = null;
      } else if (ch === '"' || ch === '`') quote = ch;
      else if (src.startsWith('/*', k)) {
        const end = src.indexOf('*/', k + 2);
        if (end < 0) throw new Error(`render-helm: ${file}: unclosed comment`);
        k = end + 1;
      } else if (src.startsWith('}}', k)) break;
    }
    if (k >= src.length) throw new Error(`render-helm: ${file}: unclosed action at offset ${open}`);
    let body = src.slice(j, k);
    const trimRight = /\s-$/.test(body);
    if (trimRight) body = body.slice(0, -1);
    if (trimLeft && out.length && out[out.length - 1].t === 'text') out[out.length - 1].v = out[out.length - 1].v.replace(/\s+$/, '');
    out.push({ t: 'action', v: body.trim(), trimRight });
    i = k + 2;
    if (trimRight) {
      const m = /^\s*/.exec(src.slice(i));
      i += m[0].length;
    }
  }
  return out.filter((tok) => tok.t !== 'text' || tok.v !== '');
}

/** Tokenise one action's expression. */
function tokens(expr, file) {
  const out = [];
  let i = 0;
  while (i < expr.length) {
    const ch = expr[i];
    if (/\s/.test(ch)) {
      i++;
    } else if (ch === '"') {
      let j = i + 1;
      let s = '';
      for (; j < expr.length && expr[j] !== '"'; j++) {
        if (expr[j] === '\\') {
          j++;
          s += { n: '\n', t: '\t', '"': '"', '\\': '\\' }[expr[j]] ?? expr[j];
        } else s += expr[j];
      }
      out.push({ k: 'lit', v: s });
      i = j + 1;
    } else if (ch === '`') {
      const j = expr.indexOf('`', i + 1);
      out.push({ k: 'lit', v: expr.slice(i + 1, j) });
      i = j + 1;
    } else if (ch === '(' || ch === ')' || ch === '|') {
      out.push({ k: ch });
      i++;
    } else {
      const m = /^[^\s()|]+/.exec(expr.slice(i));
      const w = m[0];
      i += w.length;
      if (/^-?\d+(\.\d+)?$/.test(w)) out.push({ k: 'lit', v: Number(w) });
      else if (w === 'true' || w === 'false') out.push({ k: 'lit', v: w === 'true' });
      else if (w === 'nil') out.push({ k: 'lit', v: null });
      else if (w === '.' || w.startsWith('.')) out.push({ k: 'field', root: false, path: w === '.' ? [] : w.slice(1).split('.') });
      else if (w === '$' || w.startsWith('$.')) out.push({ k: 'field', root: true, path: w === '$' ? [] : w.slice(2).split('.') });
      else if (w.startsWith('$') || w.includes(':=') || w === '=')
        throw new Error(`render-helm: ${file}: variables are not supported ("${expr}")`);
      else if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(w)) out.push({ k: 'ident', v: w });
      else throw new Error(`render-helm: ${file}: cannot read "${w}" in "${expr}"`);
    }
  }
  return out;
}

/** Parse a pipeline: command ('|' command)*, a command being operands (function call if the first is an identifier). */
function parsePipeline(toks, file, expr) {
  let pos = 0;
  const pipeline = () => {
    const cmds = [command()];
    while (toks[pos]?.k === '|') {
      pos++;
      cmds.push(command());
    }
    return { k: 'pipe', cmds };
  };
  const command = () => {
    const ops = [];
    while (pos < toks.length && toks[pos].k !== '|' && toks[pos].k !== ')') {
      const t = toks[pos++];
      if (t.k === '(') {
        ops.push(pipeline());
        if (toks[pos++]?.k !== ')') throw new Error(`render-helm: ${file}: missing ) in "${expr}"`);
      } else ops.push(t);
    }
    if (!ops.length) throw new Error(`render-helm: ${file}: empty command in "${expr}"`);
    return ops;
  };
  const p = pipeline();
  if (pos !== toks.length) throw new Error(`render-helm: ${file}: unexpected ${toks[pos].k} in "${expr}"`);
  return p;
}

/** Build the node tree from the token stream. */
function parse(src, file) {
  const toks = lex(src, file);
  let pos = 0;
  const defines = {};
  const list = (stops) => {
    const nodes = [];
    while (pos < toks.length) {
      const tok = toks[pos];
      if (tok.t === 'text') {
        nodes.push({ k: 'text', v: tok.v });
        pos++;
        continue;
      }
      const a = tok.v;
      if (a.startsWith('/*')) {
        pos++;
        continue;
      }
      const word = a.split(/\s+/, 1)[0];
      if (stops.includes(word)) return { nodes, stop: word, action: a };
      pos++;
      if (word === 'if' || word === 'with' || word === 'range') {
        nodes.push(block(word, a.slice(word.length)));
      } else if (word === 'define') {
        const name = /^define\s+"([^"]+)"$/.exec(a)?.[1];
        if (!name) throw new Error(`render-helm: ${file}: bad define "${a}"`);
        const body = list(['end']);
        if (body.stop !== 'end') throw new Error(`render-helm: ${file}: define "${name}" has no end`);
        pos++;
        defines[name] = body.nodes;
      } else if (word === 'end' || word === 'else') {
        throw new Error(`render-helm: ${file}: unexpected {{ ${a} }}`);
      } else if (word === 'template' || word === 'block') {
        throw new Error(`render-helm: ${file}: {{ ${word} }} is not supported; use include`);
      } else {
        nodes.push({ k: 'out', pipe: parsePipeline(tokens(a, file), file, a) });
      }
    }
    return { nodes, stop: undefined };
  };
  const block = (kind, exprText) => {
    const pipe = parsePipeline(tokens(exprText, file), file, exprText);
    const body = list(['else', 'end']);
    let elseNodes = [];
    if (body.stop === 'else') {
      const rest = body.action.slice(4).trim();
      pos++;
      if (rest.startsWith('if ') || rest.startsWith('with ')) {
        const w = rest.split(/\s+/, 1)[0];
        elseNodes = [block(w, rest.slice(w.length))];
        return { k: kind, pipe, body: body.nodes, else: elseNodes };
      }
      const e = list(['end']);
      if (e.stop !== 'end') throw new Error(`render-helm: ${file}: {{ ${kind} }} has no end`);
      elseNodes = e.nodes;
    } else if (body.stop !== 'end') throw new Error(`render-helm: ${file}: {{ ${kind} }} has no end`);
    pos++;
    return { k: kind, pipe, body: body.nodes, else: elseNodes };
  };
  const top = list([]);
  return { nodes: top.nodes, defines };
}

// ---------- evaluation ----------

function truthy(v) {
  if (v === undefined || v === null || v === false || v === 0 || v === '') return false;
  if (Array.isArray(v)) return v.length > 0;
  if (isObject(v)) return Object.keys(v).length > 0;
  return true;
}

function str(v) {
  if (v === undefined || v === null) return '';
  if (typeof v === 'object') throw new Error('render-helm: cannot print a map or list; use toYaml');
  return String(v);
}

function goFormat(fmt, args) {
  let i = 0;
  return fmt.replace(/%([sdvq%])/g, (_, c) => {
    if (c === '%') return '%';
    const a = args[i++];
    if (c === 'q') return JSON.stringify(str(a));
    if (c === 'd') return String(Math.trunc(Number(a)));
    return str(a);
  });
}

function makeFunctions(env) {
  const cmp = (f) => (a, b) => f(a, b);
  return {
    include: (name, dot) => env.include(name, dot),
    toYaml: (v) => (v === undefined || v === null ? 'null' : env.yaml.stringify(v, { lineWidth: 0 }).replace(/\n$/, '')),
    indent: (n, s) => {
      const pad = ' '.repeat(n);
      return pad + str(s).replace(/\n/g, `\n${pad}`);
    },
    nindent: (n, s) => {
      const pad = ' '.repeat(n);
      return `\n${pad}${str(s).replace(/\n/g, `\n${pad}`)}`;
    },
    quote: (...a) =>
      a
        .filter((x) => x !== undefined && x !== null)
        .map((x) => JSON.stringify(str(x)))
        .join(' '),
    squote: (...a) =>
      a
        .filter((x) => x !== undefined && x !== null)
        .map((x) => `'${str(x)}'`)
        .join(' '),
    default: (d, v) => (truthy(v) ? v : d),
    empty: (v) => !truthy(v),
    required: (msg, v) => {
      if (v === undefined || v === null || v === '') throw new Error(`render-helm: ${msg}`);
      return v;
    },
    printf: (fmt, ...a) => goFormat(fmt, a),
    trunc: (n, s) => (n >= 0 ? str(s).slice(0, n) : str(s).slice(n)),
    trimSuffix: (suf, s) => (str(s).endsWith(suf) ? str(s).slice(0, -suf.length || undefined) : str(s)),
    trimPrefix: (pre, s) => (str(s).startsWith(pre) ? str(s).slice(pre.length) : str(s)),
    replace: (a, b, s) => str(s).split(a).join(b),
    lower: (s) => str(s).toLowerCase(),
    upper: (s) => str(s).toUpperCase(),
    toString: (v) => str(v),
    int: (v) => Math.trunc(Number(v ?? 0)),
    add: (...a) => a.reduce((x, y) => Math.trunc(Number(x)) + Math.trunc(Number(y)), 0),
    sub: (a, b) => Math.trunc(Number(a)) - Math.trunc(Number(b)),
    mul: (...a) => a.reduce((x, y) => Math.trunc(Number(x)) * Math.trunc(Number(y)), 1),
    div: (a, b) => Math.trunc(Math.trunc(Number(a)) / Math.trunc(Number(b))),
    b64enc: (s) => btoa(String.fromCharCode(...new TextEncoder().encode(str(s)))),
    eq: (a, ...b) => b.some((x) => x === a),
    ne: cmp((a, b) => a !== b),
    lt: cmp((a, b) => a < b),
    le: cmp((a, b) => a <= b),
    gt: cmp((a, b) => a > b),
    ge: cmp((a, b) => a >= b),
    not: (v) => !truthy(v),
    and: (...a) => a.find((x) => !truthy(x)) ?? a[a.length - 1],
    or: (...a) => a.find((x) => truthy(x)) ?? a[a.length - 1],
    hasKey: (m, k) => isObject(m) && Object.hasOwn(m, k),
    list: (...a) => a,
  };
}

function evalPipe(pipe, dot, env) {
  let piped;
  let first = true;
  for (const cmd of pipe.cmds) {
    const args = cmd.map((op) => op);
    const head = args[0];
    let value;
    if (head.k === 'ident') {
      const fn = env.fns[head.v];
      if (!fn) throw new Error(`render-helm: function "${head.v}" is not supported`);
      const vals = args.slice(1).map((a) => evalOperand(a, dot, env));
      if (!first) vals.push(piped);
      value = fn(...vals);
    } else {
      if (args.length !== 1 || !first) throw new Error('render-helm: only a function can take arguments or a piped value');
      value = evalOperand(head, dot, env);
    }
    piped = value;
    first = false;
  }
  return piped;
}

function evalOperand(op, dot, env) {
  if (op.k === 'lit') return op.v;
  if (op.k === 'pipe') return evalPipe(op, dot, env);
  if (op.k === 'field') {
    let v = op.root ? env.root : dot;
    for (const p of op.path) v = isObject(v) ? v[p] : undefined;
    return v;
  }
  if (op.k === 'ident') return evalPipe({ cmds: [[op]] }, dot, env);
  throw new Error(`render-helm: unexpected ${op.k}`);
}

function exec(nodes, dot, env) {
  let out = '';
  for (const n of nodes) {
    if (n.k === 'text') out += n.v;
    else if (n.k === 'out') out += str(evalPipe(n.pipe, dot, env));
    else if (n.k === 'if') out += truthy(evalPipe(n.pipe, dot, env)) ? exec(n.body, dot, env) : exec(n.else, dot, env);
    else if (n.k === 'with') {
      const v = evalPipe(n.pipe, dot, env);
      out += truthy(v) ? exec(n.body, v, env) : exec(n.else, dot, env);
    } else if (n.k === 'range') {
      const v = evalPipe(n.pipe, dot, env);
      const items = Array.isArray(v)
        ? v
        : isObject(v)
          ? Object.keys(v)
              .sort()
              .map((key) => v[key])
          : [];
      out += items.length ? items.map((item) => exec(n.body, item, env)).join('') : exec(n.else, dot, env);
    }
  }
  return out;
}

// ---------- chart ----------

function deepMerge(base, over) {
  if (!isObject(base) || !isObject(over)) return over === undefined ? base : over;
  const out = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = v === null ? undefined : deepMerge(base[k], v);
  return out;
}

/** Apply `a.b.c=value` (helm --set, scalars only). */
export function setValue(values, assignment) {
  const eq = assignment.indexOf('=');
  if (eq < 0) throw new Error(`render-helm: --set ${assignment}: expected key=value`);
  const keys = assignment.slice(0, eq).split('.');
  const raw = assignment.slice(eq + 1);
  const value = raw === 'true' ? true : raw === 'false' ? false : raw === 'null' ? null : /^-?\d+$/.test(raw) ? Number(raw) : raw;
  const out = structuredClone(values);
  let o = out;
  for (const k of keys.slice(0, -1)) o = isObject(o[k]) ? o[k] : (o[k] = {});
  o[keys[keys.length - 1]] = value;
  return out;
}

/**
 * Render the chart in `chartDir` like `helm template NAME CHART --namespace NS`:
 * returns `{ manifests: [{ template, objects }], objects }`.
 */
export async function renderChart(chartDir, options = {}) {
  const yaml = await requireModule('yaml', 'render-helm parses YAML');
  const dir = resolve(chartDir);
  const chartMeta = yaml.parse(readFileSync(join(dir, 'Chart.yaml'), 'utf8'));
  let values = yaml.parse(readFileSync(join(dir, 'values.yaml'), 'utf8')) ?? {};
  values = deepMerge(values, options.values ?? {});
  for (const s of options.set ?? []) values = setValue(values, s);
  const capital = (k) => k[0].toUpperCase() + k.slice(1);
  const root = {
    Values: values,
    Release: {
      Name: options.name ?? 'vouch',
      Namespace: options.namespace ?? 'default',
      Service: 'Helm',
      IsInstall: true,
      IsUpgrade: false,
      Revision: 1,
    },
    Chart: Object.fromEntries(Object.entries(chartMeta).map(([k, v]) => [capital(k), v])),
    Capabilities: { KubeVersion: { Version: options.kubeVersion ?? 'v1.32.0' } },
  };
  const tdir = join(dir, 'templates');
  const files = readdirSync(tdir)
    .filter((f) => /\.(ya?ml|tpl)$/.test(f))
    .sort();
  const parsed = files.map((f) => ({ file: f, ...parse(readFileSync(join(tdir, f), 'utf8'), f) }));
  const defines = Object.assign({}, ...parsed.map((p) => p.defines));
  const env = { yaml, root, fns: undefined, depth: 0 };
  env.include = (name, dot) => {
    const body = defines[name];
    if (!body) throw new Error(`render-helm: include "${name}": no such define`);
    if (++env.depth > 50) throw new Error('render-helm: include nesting too deep');
    try {
      return exec(body, dot, env);
    } finally {
      env.depth--;
    }
  };
  env.fns = makeFunctions(env);
  const manifests = [];
  for (const p of parsed) {
    if (p.file.startsWith('_')) continue;
    const text = exec(p.nodes, root, env);
    const objects = yaml
      .parseAllDocuments(text)
      .map((d) => {
        if (d.errors.length) throw new Error(`render-helm: templates/${p.file} renders invalid YAML: ${d.errors[0].message}\n${text}`);
        return d.toJS();
      })
      .filter((o) => o !== null && o !== undefined);
    manifests.push({ template: `templates/${p.file}`, text, objects });
  }
  return { manifests, objects: manifests.flatMap((m) => m.objects) };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const opts = { set: [] };
  let chart = join(dirname(fileURLToPath(import.meta.url)), '../../deploy/helm/vouch');
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--set') opts.set.push(args[++i]);
    else if (args[i] === '--namespace' || args[i] === '-n') opts.namespace = args[++i];
    else if (args[i] === '--name') opts.name = args[++i];
    else if (existsSync(args[i])) chart = args[i];
    else throw new Error(`render-helm: unknown argument ${args[i]}`);
  }
  const { manifests } = await renderChart(chart, opts);
  for (const m of manifests) if (m.objects.length) process.stdout.write(`---\n# Source: vouch/${m.template}\n${m.text.trim()}\n`);
}
