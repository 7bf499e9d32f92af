namespace FlashAttention.Cli;

/// <summary>
/// Where an attention call runs. The commands only talk to this interface, so a GPU backend plugs in by implementing
/// it and being returned from <see cref="Backends.Select"/>.
/// </summary>
internal interface IAttentionBackend
{
    /// <summary>Short name for the tool's report, e.g. "cpu".</summary>
    string Name { get; }

    /// <summary>Forward pass, dense or packed as <paramref name="geometry"/> says.</summary>
    /// <typeparam name="T">float, Half or BFloat16.</typeparam>
    /// <param name="geometry">Sizes and layout.</param>
    /// <param name="options">The attention options.</param>
    /// <param name="q">Queries.</param>
    /// <param name="k">Keys.</param>
    /// <param name="v">Values.</param>
    /// <param name="output">Receives the output.</param>
    /// <param name="lse">Receives the log-sum-exp.</param>
    /// <param name="softmax">Receives the probabilities, or null when not asked for.</param>
    void Forward<T>(AttentionGeometry geometry, AttentionOptions options, T[] q, T[] k, T[] v, T[] output, float[] lse, float[]? softmax)
        where T : unmanaged;

    /// <summary>Backward pass, dense or packed as <paramref name="geometry"/> says.</summary>
    /// <typeparam name="T">float, Half or BFloat16.</typeparam>
    /// <param name="geometry">Sizes and layout.</param>
    /// <param name="options">The forward's options.</param>
    /// <param name="q">Queries.</param>
    /// <param name="k">Keys.</param>
    /// <param name="v">Values.</param>
    /// <param name="output">The forward output.</param>
    /// <param name="lse">The forward log-sum-exp.</param>
    /// <param name="dOutput">Gradient of the loss with respect to the output.</param>
    /// <param name="dq">Receives dq.</param>
    /// <param name="dk">Receives dk.</param>
    /// <param name="dv">Receives dv.</param>
    void Backward<T>(AttentionGeometry geometry, AttentionOptions options, T[] q, T[] k, T[] v, T[] output, float[] lse, T[] dOutput,
        T[] dq, T[] dk, T[] dv)
        where T : unmanaged;
}

/// <summary>Picks the backend for <c>--device</c>.</summary>
internal static class Backends
{
    /// <summary>The backend for a device name, or a <see cref="CliException"/> when this machine has none for it.</summary>
    /// <param name="device"><c>cpu</c> or <c>cuda</c>.</param>
    public static IAttentionBackend Select(string device) => device switch
    {
        "cpu" => CpuBackend.Instance,
        "cuda" => CudaBackend.Open(),
        _ => throw new CliException($"--device {device}: expected cpu or cuda."),
    };
}

/// <summary>The library's SIMD, multi-threaded CPU kernels.</summary>
internal sealed class CpuBackend : IAttentionBackend
{
    /// <summary>The one instance (the backend has no state).</summary>
    public static CpuBackend Instance { get; } = new();

    private CpuBackend() { }

    /// <inheritdoc />
    public string Name => "cpu";

    /// <inheritdoc />
    public void Forward<T>(AttentionGeometry geometry, AttentionOptions options, T[] q, T[] k, T[] v, T[] output, float[] lse, float[]? softmax)
        where T : unmanaged
    {
        if (geometry.Layout is VarlenLayout layout)
            Attention.ForwardVarlen<T>(layout, q, k, v, output, lse, options, softmax);
        else
            Attention.Forward<T>(geometry.Shape, q, k, v, output, lse, options, softmax);
    }

    /// <inheritdoc />
    public void Backward<T>(AttentionGeometry geometry, AttentionOptions options, T[] q, T[] k, T[] v, T[] output, float[] lse, T[] dOutput,
        T[] dq, T[] dk, T[] dv)
        where T : unmanaged
    {
        if (geometry.Layout is VarlenLayout layout)
            Attention.BackwardVarlen<T>(layout, q, k, v, output, lse, dOutput, dq, dk, dv, options);
        else
            Attention.Backward<T>(geometry.Shape, q, k, v, output, lse, dOutput, dq, dk, dv, options);
    }
}
