using System.CommandLine;
using System.CommandLine.Invocation;
using System.CommandLine.Parsing;
using System.Text.RegularExpressions;
using FlashAttention.Cli.Commands;

namespace FlashAttention.Cli;

/// <summary>The <c>flashattn</c> entry point.</summary>
internal static partial class Program
{
    private static int Main(string[] args) => Run(args);

    /// <summary>
    /// Runs the tool in-process (tests call this directly). Parse errors (unknown flags, a missing required flag, a value
    /// of the wrong type) print one line each and return 2, like every other usage error.
    /// </summary>
    /// <param name="args">The command line, without the program name.</param>
    /// <param name="output">Standard output; null for the console.</param>
    /// <param name="error">Standard error; null for the console.</param>
    /// <returns>The exit code: 0 success, 1 runtime failure, 2 usage error.</returns>
    internal static int Run(string[] args, TextWriter? output = null, TextWriter? error = null)
    {
        var config = new InvocationConfiguration { Output = output ?? Console.Out, Error = error ?? Console.Error };
        var parse = CreateRootCommand().Parse(args);
        if (parse.Errors.Count > 0 && parse.Action is ParseErrorAction)
        {
            string command = parse.CommandResult.Command is RootCommand ? "flashattn" : $"flashattn {parse.CommandResult.Command.Name}";
            foreach (var e in parse.Errors)
                config.Error.WriteLine($"{command}: error: {Describe(e)}");
            config.Error.WriteLine($"Run '{command} --help' for usage.");
            return ExitCodes.UsageError;
        }
        return parse.Invoke(config);
    }

    /// <summary>A parse error as one line that names the flag at fault (some of System.CommandLine's messages do not).</summary>
    private static string Describe(ParseError error)
    {
        string message = Friendly(error.Message);
        var option = error.SymbolResult switch
        {
            OptionResult o => o.Option,
            ArgumentResult { Parent: OptionResult o } => o.Option,
            _ => null,
        };
        return option is null || message.Contains(option.Name, StringComparison.Ordinal) ? message : $"{option.Name}: {message}";
    }

    /// <summary>
    /// System.CommandLine names the CLR type a value failed to parse as ("System.Nullable`1[System.Single]");
    /// users should read "number" instead.
    /// </summary>
    private static string Friendly(string message) => TypeName().Replace(message, m => m.Groups["t"].Value switch
    {
        "Single" or "Double" => "number",
        "UInt64" => "non-negative integer",
        "Int32" or "Int64" => "integer",
        var other => other,
    });

    [GeneratedRegex(@"System\.Nullable`1\[System\.(?<t>\w+)\]|System\.(?<t>\w+)(?=')")]
    private static partial Regex TypeName();

    /// <summary>The command tree: forward, backward, info, check and bench.</summary>
    internal static RootCommand CreateRootCommand()
    {
        var root = new RootCommand("flashattn: exact FlashAttention (forward, backward) on NumPy .npy files, plus checks and benchmarks.")
        {
            ForwardCommand.Create(),
            BackwardCommand.Create(),
            InfoCommand.Create(),
            CheckCommand.Create(),
            BenchCommand.Create(),
        };
        return root;
    }
}
