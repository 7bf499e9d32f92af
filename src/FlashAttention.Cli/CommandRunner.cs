using System.CommandLine;

namespace FlashAttention.Cli;

/// <summary>The frame around every subcommand's work: its output streams and its one-line error reporting.</summary>
internal static class CommandRunner
{
    /// <summary>
    /// Runs a command body with the invocation's standard output; a <see cref="CliException"/> becomes one line on the
    /// invocation's standard error and the exception's exit code.
    /// </summary>
    /// <param name="parse">The parse result the action was invoked with.</param>
    /// <param name="body">The work; returns the exit code.</param>
    public static int Run(ParseResult parse, Func<TextWriter, int> body)
    {
        var config = parse.InvocationConfiguration;
        try
        {
            return body(config.Output);
        }
        catch (CliException e)
        {
            config.Error.WriteLine($"flashattn {parse.CommandResult.Command.Name}: error: {e.Message}");
            return e.ExitCode;
        }
    }

    /// <summary>The storage type's name as <c>--dtype</c> spells it.</summary>
    /// <param name="dtype">The storage type.</param>
    public static string Name(ComputeDtype dtype) => dtype switch
    {
        ComputeDtype.Fp16 => "fp16",
        ComputeDtype.Bf16 => "bf16",
        _ => "fp32",
    };

    /// <summary>Allocates a float32 tensor of the given shape, or explains why it cannot be held in one array.</summary>
    /// <param name="shape">The shape.</param>
    /// <param name="flag">The flag that asked for it (for the message).</param>
    public static float[] AllocateFloat(long[] shape, string flag)
    {
        long count = Npy.Product(shape);
        if (count > Array.MaxLength)
            throw new CliException($"{flag}: shape {Npy.FormatShape(shape)} has {count} elements, more than one array can hold.");
        return new float[count];
    }
}
