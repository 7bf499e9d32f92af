using FlashAttention.Cuda.Kernels;
using ILGPU;
using ILGPU.Runtime;

namespace FlashAttention.Cuda;

/// <summary>The backward pass on the GPU.</summary>
public sealed partial class CudaAttention
{
    private static readonly Dictionary<int, (string Fused, string Split, string Dq)> DefaultBackwardVariants = new()
    {
        [64] = ("DKV_D64_N64_M64_W4_KR_AQ", "DKV_D64_N64_M64_W4_KR", "DQ_D64_M128_N32_W4"),
        [128] = ("DKV_D128_N64_M64_W4_AQ", "DKV_D128_N64_M64_W4", "DQ_D128_M128_N32_W4_QS"),
    };

    private readonly Lock _workspaceGate = new();
    private MemoryBuffer1D<float, Stride1D.Dense>? _rowWorkspace;
    private MemoryBuffer1D<float, Stride1D.Dense>? _dqWorkspace;

    /// <summary>
    /// Backward pass by recomputation, FlashAttention-2 style: from the forward's output and log-sum-exp, the gradients of
    /// q, k and v for the upstream gradient <paramref name="dOutput"/>. Pass the options of the forward call (the dropout
    /// mask is regenerated from its seed and offset). Workspace: O(N) floats on the device, kept for the next call.
    /// </summary>
    /// <typeparam name="T"><see cref="System.Half"/> (or <see cref="ILGPU.Half"/>) or <see cref="BFloat16"/>.</typeparam>
    /// <param name="shape">Batch, lengths, heads and head dim.</param>
    /// <param name="q">Queries [B, Nq, H, D].</param>
    /// <param name="k">Keys [B, Nk, Hkv, D].</param>
    /// <param name="v">Values [B, Nk, Hkv, D].</param>
    /// <param name="output">The forward output [B, Nq, H, D].</param>
    /// <param name="lse">The forward log-sum-exp [B, H, Nq].</param>
    /// <param name="dOutput">dL/doutput [B, Nq, H, D].</param>
    /// <param name="dq">Receives dL/dq [B, Nq, H, D].</param>
    /// <param name="dk">Receives dL/dk [B, Nk, Hkv, D] (summed over the query heads that share each key head).</param>
    /// <param name="dv">Receives dL/dv [B, Nk, Hkv, D].</param>
    /// <param name="options">The forward call's options; <see cref="AttentionOptions.Deterministic"/> picks the dQ pass without atomics.</param>
    /// <exception cref="ArgumentException">A shape, a length or an option is invalid.</exception>
    /// <exception cref="NotSupportedException">The element type, head dim or an option has no GPU kernel yet.</exception>
    public void Backward<T>(AttentionShape shape, ArrayView1D<T, Stride1D.Dense> q, ArrayView1D<T, Stride1D.Dense> k,
        ArrayView1D<T, Stride1D.Dense> v, ArrayView1D<T, Stride1D.Dense> output, ArrayView1D<float, Stride1D.Dense> lse,
        ArrayView1D<T, Stride1D.Dense> dOutput, ArrayView1D<T, Stride1D.Dense> dq, ArrayView1D<T, Stride1D.Dense> dk,
        ArrayView1D<T, Stride1D.Dense> dv, AttentionOptions? options = null)
        where T : unmanaged
    {
        var (kvVariant, dqVariant) = DefaultBackward(shape.HeadDim, options?.Deterministic ?? false);
        Backward(kvVariant, dqVariant, shape, options, q, k, v, output, lse, dOutput, dq, dk, dv);
    }

    /// <summary>Backward pass with named kernels (benchmarks and tests): a dK/dV kernel and, unless it fuses dQ, a dQ kernel.</summary>
    internal void Backward<T>(BackwardVariant kvVariant, BackwardVariant? dqVariant, AttentionShape shape, AttentionOptions? options,
        ArrayView1D<T, Stride1D.Dense> q, ArrayView1D<T, Stride1D.Dense> k, ArrayView1D<T, Stride1D.Dense> v,
        ArrayView1D<T, Stride1D.Dense> output, ArrayView1D<float, Stride1D.Dense> lse, ArrayView1D<T, Stride1D.Dense> dOutput,
        ArrayView1D<T, Stride1D.Dense> dq, ArrayView1D<T, Stride1D.Dense> dk, ArrayView1D<T, Stride1D.Dense> dv)
        where T : unmanaged
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var problem = new AttentionProblem(shape, options);
        var kind = ElementKind<T>();
        if (kvVariant.HeadDim != shape.HeadDim || (!kvVariant.FusedDq && (dqVariant is null || dqVariant.HeadDim != shape.HeadDim)))
            throw new NotSupportedException($"Backward kernels {kvVariant.Name}/{dqVariant?.Name} do not fit head dim {shape.HeadDim}.");
        CheckSupported(problem, shape);
        string shapeText = problem.ShapeText;
        CheckView(q, shape.QueryLength, nameof(q), shapeText);
        CheckView(k, shape.KeyValueLength, nameof(k), shapeText);
        CheckView(v, shape.KeyValueLength, nameof(v), shapeText);
        CheckView(output, shape.QueryLength, nameof(output), shapeText);
        CheckView(lse, shape.LseLength, nameof(lse), shapeText);
        CheckView(dOutput, shape.QueryLength, nameof(dOutput), shapeText);
        CheckView(dq, shape.QueryLength, nameof(dq), shapeText);
        CheckView(dk, shape.KeyValueLength, nameof(dk), shapeText);
        CheckView(dv, shape.KeyValueLength, nameof(dv), shapeText);

        int seqQPad = BlockInfo.BlockCount(shape.SeqLenQ, BackwardKernels.RowPadding) * BackwardKernels.RowPadding;
        long rowFloats = (long)shape.Batch * shape.Heads * seqQPad;
        var (rowDot, lse2, dqAccum) = Workspace(rowFloats, kvVariant.FusedDq ? shape.QueryLength : 0);
        ulong keyMask = problem.KeyMask is { } mask ? UploadKeyMask(mask) : 0UL;
        ulong alibi = problem.AlibiSlopes is not null ? UploadAlibi(problem) : 0UL;
        var parameters = BackwardParameters(shape, problem, seqQPad, Address(q), Address(k), Address(v), Address(output), Address(lse),
            Address(dOutput), Address(dq), Address(dk), Address(dv), Address(dqAccum), Address(rowDot), Address(lse2), keyMask, alibi);
        var ranges = new[]
        {
            Range(q), Range(k), Range(v), Range(output), Range(lse), Range(dOutput), Range(dq), Range(dk), Range(dv),
            Range(dqAccum), Range(rowDot), Range(lse2), KeyMaskRange(keyMask), AlibiRange(alibi),
        };
        Type mode = ScoreMode(problem), features = Features(problem);

        // 1. D = rowsum(dO∘O), LSE in base 2, the dQ accumulator cleared.
        var prepare = GetKernel(typeof(BackwardKernels).GetMethod(nameof(BackwardKernels.Prepare))!.MakeGenericMethod(kind),
            "Prepare", BackwardKernels.PrepareThreads, 0);
        Launch(prepare, (seqQPad / 4, shape.Heads, shape.Batch), parameters, ranges);

        // 2. dK, dV (and dQ by atomics) per key block.
        var kv = GetKernel(kvVariant.Method(kind, mode, features), kvVariant.Name, kvVariant.Threads, kvVariant.SharedBytes);
        Launch(kv, (BlockInfo.BlockCount(shape.SeqLenK, kvVariant.BlockN), shape.KvHeads, shape.Batch),
            parameters with { GridBlocks = BlockInfo.BlockCount(shape.SeqLenK, kvVariant.BlockN) }, ranges);

        // 3. dq: converted from the accumulator, or computed per query block without atomics.
        if (kvVariant.FusedDq)
        {
            var convert = GetKernel(typeof(BackwardKernels).GetMethod(nameof(BackwardKernels.ConvertDq))!.MakeGenericMethod(kind),
                "ConvertDq", BackwardKernels.ConvertThreads, 0);
            long pairs = shape.QueryLength / 2;
            Launch(convert, ((int)((pairs + BackwardKernels.ConvertThreads - 1) / BackwardKernels.ConvertThreads), 1, 1), parameters, ranges);
        }
        else
        {
            var dqKernel = GetKernel(dqVariant!.Method(kind, mode, features), dqVariant.Name, dqVariant.Threads, dqVariant.SharedBytes);
            int blocks = BlockInfo.BlockCount(shape.SeqLenQ, dqVariant.BlockM);
            Launch(dqKernel, (blocks, shape.Heads, shape.Batch), parameters with { GridBlocks = blocks }, ranges);
        }
    }

    /// <summary>The backward kernels for a head dim: dK/dV (with fused dQ unless deterministic) and the dQ kernel of the deterministic path.</summary>
    internal static (BackwardVariant Kv, BackwardVariant? Dq) DefaultBackward(int headDim, bool deterministic)
    {
        if (!DefaultBackwardVariants.TryGetValue(headDim, out var names))
            throw new NotSupportedException(
                $"The CUDA backend has backward kernels for head dims {string.Join(", ", DefaultBackwardVariants.Keys)}; got {headDim}. Use the CPU backend (Attention.Backward) for other sizes.");
        return deterministic
            ? (BackwardVariant.Find(names.Split), BackwardVariant.Find(names.Dq))
            : (BackwardVariant.Find(names.Fused), null);
    }

    private static BackwardParams BackwardParameters(AttentionShape shape, AttentionProblem problem, int seqQPad,
        ulong q, ulong k, ulong v, ulong output, ulong lse, ulong dOutput, ulong dq, ulong dk, ulong dv, ulong dqAccum,
        ulong rowDot, ulong lse2, ulong keyMask, ulong alibi) => new()
    {
        Q = q,
        K = k,
        V = v,
        O = output,
        DO = dOutput,
        Lse = lse,
        DQ = dq,
        DK = dk,
        DV = dv,
        DqAccum = dqAccum,
        RowDot = rowDot,
        Lse2 = lse2,
        KeyMask = keyMask,
        Alibi = alibi,
        SeqQ = shape.SeqLenQ,
        SeqK = shape.SeqLenK,
        SeqQPad = seqQPad,
        HeadDim = shape.HeadDim,
        Heads = shape.Heads,
        KvHeads = shape.KvHeads,
        GroupSize = shape.Heads / shape.KvHeads,
        WindowLeft = problem.WindowLeft,
        WindowRight = problem.WindowRight,
        ScaleLog2 = problem.Softcap > 0 ? (float)(problem.Softcap * Log2E) : ScaleLog2(problem.Scale),
        PrepScale = problem.Softcap > 0 ? (float)(2 * Log2E * problem.Scale / problem.Softcap) : 0f,
        Scale = problem.Scale,
        DropSeedLow = problem.Dropout.SeedLow,
        DropKeyHigh = problem.Dropout.KeyHigh,
        DropOffsetLow = problem.Dropout.OffsetLow,
        KeepThreshold = problem.Dropout.KeepThreshold,
        DropScale = problem.Dropout.Enabled ? problem.Dropout.KeepScale : 1f,
        DqElements = shape.QueryLength,
    };

    /// <summary>
    /// The backward workspace, grown as needed and kept across calls (stream order makes reuse safe): D and LSE₂ rows
    /// [B, H, SeqQPad], and the float32 dQ accumulator [B, Nq, H, D] when dQ is fused.
    /// </summary>
    private (ArrayView1D<float, Stride1D.Dense> RowDot, ArrayView1D<float, Stride1D.Dense> Lse2, ArrayView1D<float, Stride1D.Dense> DqAccum)
        Workspace(long rowFloats, long dqFloats)
    {
        lock (_workspaceGate)
        {
            if (_rowWorkspace is null || _rowWorkspace.Length < 2 * rowFloats)
            {
                _rowWorkspace?.Dispose();
                _rowWorkspace = Accelerator.Allocate1D<float>(Math.Max(2 * rowFloats, 1024));
            }
            if (dqFloats > 0 && (_dqWorkspace is null || _dqWorkspace.Length < dqFloats))
            {
                _dqWorkspace?.Dispose();
                _dqWorkspace = Accelerator.Allocate1D<float>(dqFloats);
            }
            var rows = _rowWorkspace.View;
            return (rows.SubView(0, rowFloats), rows.SubView(rowFloats, rowFloats),
                dqFloats > 0 ? _dqWorkspace!.View.SubView(0, dqFloats) : default);
        }
    }

    private static void CheckSupported(AttentionProblem problem, AttentionShape shape)
    {
        if (problem.Variant != AttentionVariant.Softmax)
            throw new NotSupportedException("The CUDA backend does not implement cosine-similarity attention yet; use the CPU backend.");
        if (shape.Heads > 65535 || shape.Batch > 65535)
            throw new NotSupportedException($"The CUDA grid holds at most 65535 heads and 65535 sequences; got {shape.Heads} heads, batch {shape.Batch}.");
    }
}
