namespace FlashAttention.Cpu;

/// <summary>
/// The backward pass's O(N) float32 buffers (per-row dots, prepared q and dO rows, dQ accumulators), kept for the next
/// call behind a weak reference. A training loop calls backward with the same shapes step after step; fresh buffers
/// would be page-faulted in every time, which on a 16-core VM cost as much as the causal kernel itself. The weak
/// reference lets the GC take the memory back whenever it wants it; then the next call simply allocates again.
/// Buffers are handed out uninitialised: callers write every element they read.
/// </summary>
internal sealed class BackwardWorkspace
{
    private static WeakReference<BackwardWorkspace>? s_cached;

    public float[] RowDots = [];
    public float[] Queries = [];
    public float[] DOutputs = [];
    public float[][] DqAccumulators = [];

    /// <summary>Takes the cached workspace (or a new one) and makes sure every buffer has at least the given length.</summary>
    public static BackwardWorkspace Rent(int rowDots, int rows, int chunks, int accumulator)
    {
        var workspace = Interlocked.Exchange(ref s_cached, null) is { } weak && weak.TryGetTarget(out var cached) ? cached : new BackwardWorkspace();
        workspace.RowDots = Ensure(workspace.RowDots, rowDots);
        workspace.Queries = Ensure(workspace.Queries, rows);
        workspace.DOutputs = Ensure(workspace.DOutputs, rows);
        if (workspace.DqAccumulators.Length < chunks)
            Array.Resize(ref workspace.DqAccumulators, chunks);
        for (int c = 0; c < chunks; c++)
            workspace.DqAccumulators[c] = Ensure(workspace.DqAccumulators[c] ?? [], accumulator);
        return workspace;
    }

    /// <summary>Offers the workspace to the next call.</summary>
    public static void Return(BackwardWorkspace workspace) =>
        Interlocked.Exchange(ref s_cached, new WeakReference<BackwardWorkspace>(workspace));

    private static float[] Ensure(float[] array, int length) =>
        array.Length >= length ? array : GC.AllocateUninitializedArray<float>(length);
}
