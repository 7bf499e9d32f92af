namespace FlashAttention.Cli;

/// <summary>
/// A failure the tool reports in one line and exits on. The message is the whole explanation and names the file or flag
/// at fault. Most are problems with what the user asked for (a missing or malformed file, a shape that does not fit, a
/// bad flag value): those exit with <see cref="ExitCodes.UsageError"/>.
/// </summary>
/// <param name="message">The one-line explanation.</param>
/// <param name="exitCode">The process exit code.</param>
internal sealed class CliException(string message, int exitCode = ExitCodes.UsageError) : Exception(message)
{
    /// <summary>The process exit code to return.</summary>
    public int ExitCode { get; } = exitCode;
}

/// <summary>The tool's exit codes.</summary>
internal static class ExitCodes
{
    /// <summary>Success.</summary>
    public const int Ok = 0;

    /// <summary>Something failed while running (for example an output file could not be written).</summary>
    public const int Failure = 1;

    /// <summary>Bad input: flags, files, dtypes or shapes. Nothing was written.</summary>
    public const int UsageError = 2;
}
