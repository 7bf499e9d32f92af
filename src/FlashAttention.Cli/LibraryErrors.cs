namespace FlashAttention.Cli;

/// <summary>Turns the library's argument exceptions into the tool's one-line messages.</summary>
internal static class LibraryErrors
{
    /// <summary>
    /// The exception's message without the " (Parameter 'x')" suffix .NET appends: the library's messages already name
    /// the argument, and the suffix would break the one-line format.
    /// </summary>
    /// <param name="e">An exception thrown by the library's validation.</param>
    public static string Message(ArgumentException e)
    {
        string message = e.Message;
        if (e.ParamName is string name)
        {
            string suffix = $" (Parameter '{name}')";
            if (message.EndsWith(suffix, StringComparison.Ordinal))
                message = message[..^suffix.Length];
        }
        return message.ReplaceLineEndings(" ");
    }

    /// <summary>Runs a library call, reporting a rejected argument as a <see cref="CliException"/> (exit 2; nothing written yet).</summary>
    /// <param name="call">The call.</param>
    public static void Guard(Action call)
    {
        try
        {
            call();
        }
        catch (ArgumentException e)
        {
            throw new CliException(Message(e));
        }
    }
}
