/**
 * Parses `originate {vars}endpoint/... &app() ...` the way FreeSWITCH 1.10 does: the `{…}` block
 * ends at the first `}`; variables are comma separated, `'…'` quotes protect commas, and a name
 * given twice keeps its last value, moved to the end (fixture 74).
 */
export const ORIGINATE_USAGE =
  '-USAGE: <call url> <exten>|&<application_name>(<app_args>) [<dialplan>] [<context>] [<cid_name>] [<cid_num>] [<timeout_sec>]\n';

export type OriginateRequest =
  | {
      kind: 'gateway';
      variables: Map<string, string>;
      gateway: string;
      destination: string;
      application: string;
      timeoutSec: number;
    }
  | { kind: 'error'; variables: Map<string, string>; reply: string; gateway: string; destination: string };

function parseVariables(block: string): Map<string, string> {
  const variables = new Map<string, string>();
  let current = '';
  let quoted = false;
  const flush = () => {
    const eq = current.indexOf('=');
    if (eq > 0) {
      const name = current.slice(0, eq).trim();
      let value = current.slice(eq + 1);
      if (value.length >= 2 && value.startsWith("'") && value.endsWith("'")) value = value.slice(1, -1);
      variables.delete(name);
      variables.set(name, value);
    }
    current = '';
  };
  for (const ch of block) {
    if (ch === "'") quoted = !quoted;
    if (ch === ',' && !quoted) flush();
    else current += ch;
  }
  flush();
  return variables;
}

export function parseOriginate(args: string): OriginateRequest {
  const argv = args.split(' ').filter((a) => a !== '');
  const error = (reply: string, gateway = '', destination = '') =>
    ({ kind: 'error', variables: new Map<string, string>(), reply, gateway, destination }) as const;
  if (argv.length < 2) return error(ORIGINATE_USAGE);
  let url = argv[0]!;
  let variables = new Map<string, string>();
  if (url.startsWith('{')) {
    const end = url.indexOf('}');
    if (end === -1) return error(ORIGINATE_USAGE);
    variables = parseVariables(url.slice(1, end));
    url = url.slice(end + 1);
  }
  const [endpoint, kindOrProfile, gateway = '', ...rest] = url.split('/');
  const destination = rest.join('/');
  if (endpoint !== 'sofia') return { ...error('-ERR CHAN_NOT_IMPLEMENTED\n'), variables };
  if (kindOrProfile !== 'gateway' || destination === '') {
    return { ...error('-ERR INVALID_URL\n'), variables };
  }
  const timeoutArg = Number(argv[6]);
  const timeoutVar = Number(variables.get('originate_timeout'));
  const timeoutSec = timeoutVar > 0 ? timeoutVar : timeoutArg > 0 ? timeoutArg : 60;
  return {
    kind: 'gateway',
    variables,
    gateway,
    destination: destination.split(';')[0]!,
    application: argv[1]!,
    timeoutSec,
  };
}
