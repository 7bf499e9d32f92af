namespace FlashAttention.Cli;

/// <summary>
/// All-or-nothing output: each file is first written to a hidden temporary file beside its destination, and only when
/// every one is written are they renamed into place. Disposing without <see cref="Commit"/> deletes the temporary
/// files, so a failed run leaves no output file behind (files that existed before the run are left untouched).
/// </summary>
internal sealed class OutputFiles : IDisposable
{
    private readonly List<(string Temp, string Final)> _staged = [];
    private bool _committed;

    /// <summary>
    /// Checks output paths before any work: each must name a file in an existing directory, and no two flags may name
    /// the same file.
    /// </summary>
    /// <param name="targets">(flag, path) pairs; null paths (outputs not asked for) are skipped.</param>
    /// <exception cref="CliException">A path cannot be written.</exception>
    public static void CheckTargets(params (string Flag, string? Path)[] targets)
    {
        var seen = new Dictionary<string, string>(OperatingSystem.IsWindows() ? StringComparer.OrdinalIgnoreCase : StringComparer.Ordinal);
        foreach (var (flag, path) in targets)
        {
            if (path is null)
                continue;
            string full;
            try
            {
                full = Path.GetFullPath(path);
            }
            catch (Exception e) when (e is ArgumentException or NotSupportedException or PathTooLongException)
            {
                throw new CliException($"{path}: not a valid output path for {flag}.");
            }
            if (Directory.Exists(full))
                throw new CliException($"{path}: is a directory; {flag} needs a file path.");
            string? directory = Path.GetDirectoryName(full);
            if (directory is null || !Directory.Exists(directory))
                throw new CliException($"{path}: directory {directory} does not exist; {flag} cannot be written there.");
            if (!seen.TryAdd(full, flag))
                throw new CliException($"{path}: named by both {seen[full]} and {flag}; give each output its own file.");
        }
    }

    /// <summary>
    /// Writes a tensor of the storage type to its temporary file: float and Half as themselves (<c>&lt;f4</c>,
    /// <c>&lt;f2</c>), BFloat16 widened to <c>&lt;f4</c> because NumPy has no bfloat16.
    /// </summary>
    /// <typeparam name="T">float, Half or BFloat16.</typeparam>
    /// <param name="path">The final destination.</param>
    /// <param name="data">The elements.</param>
    /// <param name="shape">The shape to record.</param>
    public void StageTensor<T>(string path, T[] data, long[] shape) where T : unmanaged
    {
        if (typeof(T) == typeof(BFloat16))
        {
            var wide = new float[data.Length];
            Cpu.Elements.ToFloat<T>(data, wide);
            Stage<float>(path, wide, shape);
        }
        else
        {
            Stage<T>(path, data, shape);
        }
    }

    /// <summary>Writes an array to the temporary file of <paramref name="path"/>.</summary>
    /// <typeparam name="T">A type <see cref="Npy.Write{T}(string, ReadOnlySpan{T}, ReadOnlySpan{long}, int)"/> accepts.</typeparam>
    /// <param name="path">The final destination.</param>
    /// <param name="data">The elements.</param>
    /// <param name="shape">The shape to record.</param>
    public void Stage<T>(string path, ReadOnlySpan<T> data, long[] shape) where T : unmanaged
    {
        if (_committed)
            throw new InvalidOperationException("The outputs were committed already.");
        string full = Path.GetFullPath(path);
        // Same directory as the destination, so the final rename stays on one file system and is atomic.
        string temp = Path.Combine(Path.GetDirectoryName(full)!, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
        _staged.Add((temp, full));
        try
        {
            Npy.Write(temp, data, shape);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliException($"{path}: cannot write: {e.Message}", ExitCodes.Failure);
        }
    }

    /// <summary>Moves every staged file into place. If a move fails, the files already moved are deleted again.</summary>
    /// <exception cref="CliException">A move failed.</exception>
    public void Commit()
    {
        var moved = new List<string>();
        try
        {
            foreach (var (temp, final) in _staged)
            {
                File.Move(temp, final, overwrite: true);
                moved.Add(final);
            }
            _committed = true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            foreach (string final in moved)
                TryDelete(final);
            throw new CliException($"cannot move outputs into place: {e.Message}", ExitCodes.Failure);
        }
    }

    /// <summary>Deletes the temporary files of an uncommitted run.</summary>
    public void Dispose()
    {
        if (_committed)
            return;
        foreach (var (temp, _) in _staged)
            TryDelete(temp);
        _staged.Clear();
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Best effort: the run is failing already, and its error message matters more than this one.
        }
    }
}
