/**
 * Usage errors in notation's words. commander raises them; notation (cobra and pflag) words them
 * differently (`unknown flag: --x`, `flag needs an argument: 'e' in -e`, `unknown command "x"
 * for "notation"`, and a message of its own per verb for a missing positional argument). The
 * command that raised an error is kept with it ({@link VouchCommand}) so the message can name it.
 */
import { Command, CommanderError, type Option } from 'commander';

const raisedBy = new WeakMap<CommanderError, Command>();

/** A commander `Command` whose usage errors remember the command that raised them. */
export class VouchCommand extends Command {
  override createCommand(name?: string): Command {
    return new VouchCommand(name);
  }

  override error(message: string, options?: { code?: string; exitCode?: number }): never {
    try {
      return super.error(message, options);
    } catch (e) {
      if (e instanceof CommanderError) raisedBy.set(e, this);
      throw e;
    }
  }
}

/** The command a usage error came from, if known. */
export function commandOf(e: CommanderError): Command | undefined {
  return raisedBy.get(e);
}

function canonicalPath(cmd: Command): string[] {
  const names: string[] = [];
  for (let c: Command | null = cmd; c; c = c.parent) names.unshift(c.name());
  return names;
}

const missingReference = (verb: string) => (prog: string) =>
  `missing reference to the artifact: use \`${prog} ${verb} --help\` to see what parameters are required`;

/** notation's message for a missing positional argument, per command path (without the program name). */
export const MISSING_ARGUMENT: Readonly<Record<string, (programName: string) => string>> = {
  sign: missingReference('sign'),
  verify: missingReference('verify'),
  inspect: missingReference('inspect'),
  list: missingReference('list'),
  'certificate add': () => 'missing certificate path',
  'certificate show': () => 'missing certificate file name',
  'certificate generate-test': () => 'missing certificate common_name',
  'key add': () => 'either missing key name or unnecessary parameters passed',
  'key update': () => 'missing key name',
  'key delete': () => 'missing key names',
  login: () => 'no hostname specified',
  logout: () => 'no hostname specified',
  'plugin uninstall': () => 'plugin name is required',
};

/** The option `long` of `cmd` or of one of its parents. */
function findOption(cmd: Command, long: string): Option | undefined {
  for (let c: Command | null = cmd; c; c = c.parent) {
    const o = c.options.find((x) => x.long === long);
    if (o) return o;
  }
  return undefined;
}

/** Commander's own wording, minus its `error:` prefix. */
function commanderWording(e: CommanderError): string {
  return e.message.replace(/^error:\s*/i, '').replace(/^\w/, (c) => c.toLowerCase());
}

/**
 * The message (notation's wording) and the command to point `--help` at for a commander usage
 * error; `argv` is the command line, `programName` the name vouch runs under.
 */
export function usageError(e: CommanderError, argv: readonly string[], programName: string): { message: string; helpFor: string } {
  const cmd = commandOf(e);
  const names = cmd ? canonicalPath(cmd) : [programName];
  const key = names.slice(1).join(' ');
  names[0] = programName;
  const path = names.join(' ');
  const quoted = /'([^']*)'/.exec(e.message)?.[1] ?? '';
  switch (e.code) {
    case 'commander.unknownCommand': {
      const suggestion = /\(Did you mean ([^?]+)\?\)/.exec(e.message)?.[1];
      return {
        message: `unknown command "${quoted}" for "${path}"${suggestion ? `\n\nDid you mean this?\n\t${suggestion}\n` : ''}`,
        helpFor: path,
      };
    }
    case 'commander.excessArguments': {
      if (!cmd) break;
      const expected = cmd.registeredArguments.length;
      // a command group given something that is not one of its commands, or a verb without arguments
      // given one: cobra's wording for both
      if (cmd.commands.length > 0 || expected === 0) {
        return { message: `unknown command "${cmd.args[expected] ?? ''}" for "${path}"`, helpFor: path };
      }
      return { message: `accepts at most ${expected} arg(s), received ${cmd.args.length}`, helpFor: path };
    }
    case 'commander.unknownOption': {
      // `--bool=maybe`: pflag parses the value of a boolean flag
      const eq = /^(--[A-Za-z0-9-]+)=(.*)$/.exec(quoted);
      const bool = eq && cmd ? findOption(cmd, eq[1]!) : undefined;
      if (eq && bool && !bool.required && !bool.optional) {
        return {
          message: `invalid argument ${JSON.stringify(eq[2])} for ${JSON.stringify(eq[1])} flag: strconv.ParseBool: parsing ${JSON.stringify(eq[2])}: invalid syntax`,
          helpFor: path,
        };
      }
      return {
        message: quoted.startsWith('--') ? `unknown flag: ${quoted}` : `unknown shorthand flag: '${quoted.slice(1, 2)}' in ${quoted}`,
        helpFor: path,
      };
    }
    case 'commander.optionMissingArgument': {
      const long = /--[A-Za-z0-9-]+/.exec(quoted)?.[0];
      const short = /(?:^|\s)(-[A-Za-z0-9])\b/.exec(quoted)?.[1];
      const typedShort = short !== undefined && !(long !== undefined && argv.includes(long));
      return {
        message: typedShort ? `flag needs an argument: '${short!.slice(1)}' in ${short}` : `flag needs an argument: ${long ?? quoted}`,
        helpFor: path,
      };
    }
    case 'commander.missingArgument': {
      const m = MISSING_ARGUMENT[key];
      if (m) return { message: m(programName), helpFor: path };
      break;
    }
  }
  return { message: commanderWording(e), helpFor: path };
}
