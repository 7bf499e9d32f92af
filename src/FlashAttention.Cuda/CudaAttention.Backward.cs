using FlashAttention.Cuda.Kernels;
using FlashAttention.Cuda.Ptx;
using ILGPU;
using ILGPU.Runtime;

namespace FlashAttention.Cuda;

/// <summary>The backward pass on the GPU.</summary>
public sealed partial class CudaAttention
{
    /// <summary>
    /// Backward pass by recomputation, FlashAttention-2 style: from the forward's output and log-sum-exp, the gradients of
    /// q, k and v for the upstream gradient <paramref name="dOutput"/>. Pass the options of the forward call (the dropout
    /// mask is regenerated from its seed and offset). Workspace: O(N) floats on the device, kept for the next call.
    /// By default dQ has a pass of its own, so the result does not depend on the order of atomics (see <see cref="UseAtomicDq"/>).
    /// </summary>
    /// <typeparam name="T"><see cref="System.Half"/> (or <see cref="ILGPU.Half"/>), <see cref="BFloat16"/> or float.</typeparam>
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
    /// <param name="options">The forward call's options.</param>
    /// <exception cref="ArgumentException">A shape, a length or an option is invalid.</exception>
    /// <exception cref="NotSupportedException">The element type or the head dim has no GPU kernel.</exception>
    public void Backward<T>(AttentionShape shape, ArrayView1D<T, Stride1D.Dense> q, ArrayView1D<T, Stride1D.Dense> k,
        ArrayView1D<T, Stride1D.Dense> v, ArrayView1D<T, Stride1D.Dense> output, ArrayView1D<float, Stride1D.Dense> lse,
        ArrayView1D<T, Stride1D.Dense> dOutput, ArrayView1D<T, Stride1D.Dense> dq, ArrayView1D<T, Stride1D.Dense> dk,
        ArrayView1D<T, Stride1D.Dense> dv, AttentionOptions? options = null)
        where T : unmanaged =>
        RunBackward(new AttentionProblem(shape, options), Kernels(shape.HeadDim, options), q, k, v, output, lse, dOutput, dq, dk, dv, default(NoCudaScoreMod), default(NoCudaMaskMod));

    /// <summary>The default kernels of a call: atomics for dQ only when asked for (<see cref="UseAtomicDq"/>) and not overruled (<see cref="AttentionOptions.Deterministic"/>).</summary>
    private BackwardKernelSet Kernels(int headDim, AttentionOptions? options) =>
        DefaultBackward(headDim, UseAtomicDq && !(options?.Deterministic ?? false), IsSm90 || IsEmulated, options);

    /// <summary>Backward pass with the caller's score and mask modifiers (the same structs as the forward call).</summary>
    /// <typeparam name="T"><see cref="System.Half"/> (or <see cref="ILGPU.Half"/>), <see cref="BFloat16"/> or float.</typeparam>
    /// <typeparam name="TScore">The score modifier; its <see cref="ICudaScoreMod.Derivative"/> enters the chain rule.</typeparam>
    /// <typeparam name="TMask">The mask.</typeparam>
    /// <param name="shape">Batch, lengths, heads and head dim.</param>
    /// <param name="q">Queries [B, Nq, H, D].</param>
    /// <param name="k">Keys [B, Nk, Hkv, D].</param>
    /// <param name="v">Values [B, Nk, Hkv, D].</param>
    /// <param name="output">The forward output [B, Nq, H, D].</param>
    /// <param name="lse">The forward log-sum-exp [B, H, Nq].</param>
    /// <param name="dOutput">dL/doutput [B, Nq, H, D].</param>
    /// <param name="dq">Receives dL/dq.</param>
    /// <param name="dk">Receives dL/dk.</param>
    /// <param name="dv">Receives dL/dv.</param>
    /// <param name="scoreMod">The score modifier.</param>
    /// <param name="maskMod">The mask.</param>
    /// <param name="options">The forward call's options.</param>
    public void Backward<T, TScore, TMask>(AttentionShape shape, ArrayView1D<T, Stride1D.Dense> q, ArrayView1D<T, Stride1D.Dense> k,
        ArrayView1D<T, Stride1D.Dense> v, ArrayView1D<T, Stride1D.Dense> output, ArrayView1D<float, Stride1D.Dense> lse,
        ArrayView1D<T, Stride1D.Dense> dOutput, ArrayView1D<T, Stride1D.Dense> dq, ArrayView1D<T, Stride1D.Dense> dk,
        ArrayView1D<T, Stride1D.Dense> dv, TScore scoreMod, TMask maskMod, AttentionOptions? options = null)
        where T : unmanaged
        where TScore : unmanaged, ICudaScoreMod
        where TMask : unmanaged, ICudaMaskMod =>
        RunBackward(new AttentionProblem(shape, options), Kernels(shape.HeadDim, options), q, k, v, output, lse, dOutput, dq, dk, dv, scoreMod, maskMod);

    /// <summary>Backward pass over a packed variable-length batch (layouts as <see cref="ForwardVarlen{T}"/>).</summary>
    /// <typeparam name="T"><see cref="System.Half"/> (or <see cref="ILGPU.Half"/>), <see cref="BFloat16"/> or float.</typeparam>
    /// <param name="layout">The offsets and head counts.</param>
    /// <param name="q">Queries [total_q, H, D].</param>
    /// <param name="k">Keys [total_k, Hkv, D].</param>
    /// <param name="v">Values [total_k, Hkv, D].</param>
    /// <param name="output">The forward output [total_q, H, D].</param>
    /// <param name="lse">The forward log-sum-exp [H, total_q].</param>
    /// <param name="dOutput">dL/doutput [total_q, H, D].</param>
    /// <param name="dq">Receives dL/dq.</param>
    /// <param name="dk">Receives dL/dk.</param>
    /// <param name="dv">Receives dL/dv.</param>
    /// <param name="options">The forward call's options.</param>
    public void BackwardVarlen<T>(VarlenLayout layout, ArrayView1D<T, Stride1D.Dense> q, ArrayView1D<T, Stride1D.Dense> k,
        ArrayView1D<T, Stride1D.Dense> v, ArrayView1D<T, Stride1D.Dense> output, ArrayView1D<float, Stride1D.Dense> lse,
        ArrayView1D<T, Stride1D.Dense> dOutput, ArrayView1D<T, Stride1D.Dense> dq, ArrayView1D<T, Stride1D.Dense> dk,
        ArrayView1D<T, Stride1D.Dense> dv, AttentionOptions? options = null)
        where T : unmanaged =>
        RunBackward(new AttentionProblem(layout, options), Kernels(layout.HeadDim, options), q, k, v, output, lse, dOutput, dq, dk, dv, default(NoCudaScoreMod), default(NoCudaMaskMod));

    /// <summary>Packed variable-length backward pass with the caller's score and mask modifiers.</summary>
    /// <typeparam name="T"><see cref="System.Half"/> (or <see cref="ILGPU.Half"/>), <see cref="BFloat16"/> or float.</typeparam>
    /// <typeparam name="TScore">The score modifier.</typeparam>
    /// <typeparam name="TMask">The mask.</typeparam>
    /// <param name="layout">The offsets and head counts.</param>
    /// <param name="q">Queries [total_q, H, D].</param>
    /// <param name="k">Keys [total_k, Hkv, D].</param>
    /// <param name="v">Values [total_k, Hkv, D].</param>
    /// <param name="output">The forward output.</param>
    /// <param name="lse">The forward log-sum-exp [H, total_q].</param>
    /// <param name="dOutput">dL/doutput.</param>
    /// <param name="dq">Receives dL/dq.</param>
    /// <param name="dk">Receives dL/dk.</param>
    /// <param name="dv">Receives dL/dv.</param>
    /// <param name="scoreMod">The score modifier.</param>
    /// <param name="maskMod">The mask.</param>
    /// <param name="options">The forward call's options.</param>
    public void BackwardVarlen<T, TScore, TMask>(VarlenLayout layout, ArrayView1D<T, Stride1D.Dense> q, ArrayView1D<T, Stride1D.Dense> k,
        ArrayView1D<T, Stride1D.Dense> v, ArrayView1D<T, Stride1D.Dense> output, ArrayView1D<float, Stride1D.Dense> lse,
        ArrayView1D<T, Stride1D.Dense> dOutput, ArrayView1D<T, Stride1D.Dense> dq, ArrayView1D<T, Stride1D.Dense> dk,
        ArrayView1D<T, Stride1D.Dense> dv, TScore scoreMod, TMask maskMod, AttentionOptions? options = null)
        where T : unmanaged
        where TScore : unmanaged, ICudaScoreMod
        where TMask : unmanaged, ICudaMaskMod =>
        RunBackward(new AttentionProblem(layout, options), Kernels(layout.HeadDim, options), q, k, v, output, lse, dOutput, dq, dk, dv, scoreMod, maskMod);

    /// <summary>Backward pass with named kernels (benchmarks and tests): a dK/dV kernel and, unless it fuses dQ, a dQ kernel.</summary>
    internal void Backward<T>(BackwardVariant kvVariant, BackwardVariant? dqVariant, AttentionShape shape, AttentionOptions? options,
        ArrayView1D<T, Stride1D.Dense> q, ArrayView1D<T, Stride1D.Dense> k, ArrayView1D<T, Stride1D.Dense> v,
        ArrayView1D<T, Stride1D.Dense> output, ArrayView1D<float, Stride1D.Dense> lse, ArrayView1D<T, Stride1D.Dense> dOutput,
        ArrayView1D<T, Stride1D.Dense> dq, ArrayView1D<T, Stride1D.Dense> dk, ArrayView1D<T, Stride1D.Dense> dv)
        where T : unmanaged =>
        Backward(new BackwardKernelSet([kvVariant], dqVariant), shape, options, q, k, v, output, lse, dOutput, dq, dk, dv);

    /// <summary>Backward pass with a named kernel set (benchmarks and tests).</summary>
    internal void Backward<T>(BackwardKernelSet set, AttentionShape shape, AttentionOptions? options,
        ArrayView1D<T, Stride1D.Dense> q, ArrayView1D<T, Stride1D.Dense> k, ArrayView1D<T, Stride1D.Dense> v,
        ArrayView1D<T, Stride1D.Dense> output, ArrayView1D<float, Stride1D.Dense> lse, ArrayView1D<T, Stride1D.Dense> dOutput,
        ArrayView1D<T, Stride1D.Dense> dq, ArrayView1D<T, Stride1D.Dense> dk, ArrayView1D<T, Stride1D.Dense> dv)
        where T : unmanaged =>
        RunBackward(new AttentionProblem(shape, options), set, q, k, v, output, lse, dOutput, dq, dk, dv, default(NoCudaScoreMod), default(NoCudaMaskMod));

    /// <summary>The kernels of one backward call: one or two dK/dV kernels (head dim 256: dV and dK passes) and the dQ kernel, unless dQ is fused.</summary>
    /// <param name="Kv">The dK/dV kernels.</param>
    /// <param name="Dq">The dQ kernel; null when the dK/dV kernel fuses dQ.</param>
    /// <param name="Stages">Benchmarks only: the stages to run (a time breakdown); all by default.</param>
    /// <param name="Hopper">
    /// Whether, on an sm_90 GPU, a call that <see cref="Sm90BackwardDq.Applies(AttentionProblem, bool, bool)"/> accepts
    /// runs the wgmma dQ kernel in place of <paramref name="Dq"/>, and one that <see cref="Sm90BackwardKv.Applies(AttentionProblem, bool, bool)"/>
    /// accepts the wgmma dK/dV kernel in place of <paramref name="Kv"/> (the defaults at head dims 64 and 128; explicit sets keep their kernels).
    /// </param>
    internal sealed record BackwardKernelSet(BackwardVariant[] Kv, BackwardVariant? Dq, BackwardStages Stages = BackwardStages.All, bool Hopper = false);

    /// <summary>The stages of a backward call, for a time breakdown.</summary>
    [Flags]
    internal enum BackwardStages
    {
        /// <summary>D = rowsum(dO∘O), LSE₂.</summary>
        Prepare = 1,

        /// <summary>The dK/dV kernels.</summary>
        KeyValue = 2,

        /// <summary>The dQ kernel or conversion, and the cosine chain.</summary>
        Query = 4,

        /// <summary>Everything.</summary>
        All = Prepare | KeyValue | Query,
    }

    /// <summary>
    /// The backward kernels for a head dim: the split path (deterministic) by default, or fused dQ atomics. The same kernels
    /// serve every feature set: timed with ALiBi, dropout, both and softcap on the H200 (docs/benchmarks.md run 20), the
    /// spill-free lighter dQ and dK/dV kernels were 1–25 % slower at head dims 64, 96 and 128 than these, which keep
    /// 8–176 B of spills in the driver JIT; at head dim 256 the spill-free 16-key dQ kernel is as fast without features
    /// and faster with them at 15 of 16 points (−1.6 to +4.5 %), so it is the default there. At head dim 64 with dropout
    /// (and neither ALiBi nor softcap) the spill-free two-m-tile dQ kernel that re-reads Q from shared memory wins: the
    /// whole backward 1.5–3.3 % faster at 2k and 8k, causal or not (run 36); with ALiBi or softcap as well it loses 0.5–2 %.
    /// </summary>
    /// <param name="headDim">The call's head dim (the kernels serve the next supported one).</param>
    /// <param name="atomicDq">Fused dQ atomics instead of the split, deterministic path.</param>
    /// <param name="sm90">Whether the device is sm_90 (its fused kernels differ).</param>
    /// <param name="options">The call's options: the dQ kernel at head dim 64 depends on dropout, ALiBi and softcap.</param>
    internal static BackwardKernelSet DefaultBackward(int headDim, bool atomicDq, bool sm90 = true, AttentionOptions? options = null)
    {
        int d = KernelDim(headDim);
        if (atomicDq && d is 64 or 128)
            return new BackwardKernelSet(
                [BackwardVariant.Find(d == 64 ? (sm90 ? "DKV_D64_N64_M64_W4_KR_AQ2" : "DKV_D64_N64_M64_W4_KR_AQ") : (sm90 ? "DKV_D128_N128_M64_W8_AQ4" : "DKV_D128_N64_M64_W4_AQ"))],
                null);
        return d switch
        {
            32 => new([BackwardVariant.Find("DKV_D32_N64_M64_W4_KR")], BackwardVariant.Find("DQ_D32_M128_N32_W4")),
            64 => new([BackwardVariant.Find("DKV_D64_N64_M64_W4_KR")], BackwardVariant.Find(DropoutOnly(options) ? "DQ_D64_M128_N32_W4_QS" : "DQ_D64_M128_N32_W4"),
                Hopper: sm90),
            96 => new([BackwardVariant.Find("DKV_D96_N64_M64_W4")], BackwardVariant.Find("DQ_D96_M128_N32_W4_QS")),
            128 => new([BackwardVariant.Find("DKV_D128_N64_M64_W4_G2x2")], BackwardVariant.Find("DQ_D128_M128_N32_W4_QS"), Hopper: sm90),
            _ => new([BackwardVariant.Find("DKV_D256_N64_M64_W4_DV"), BackwardVariant.Find("DKV_D256_N64_M32_W4_DK")], BackwardVariant.Find("DQ_D256_M64_N16_W4_QS")),
        };
    }

    /// <summary>
    /// Whether the split backward runs its dQ kernel on a second stream beside the dK/dV kernels (default) or after them
    /// on one stream. <c>FLASHATTN_BACKWARD_OVERLAP=0</c> turns the overlap off (benchmarks compare the two).
    /// </summary>
    internal static bool OverlapBackwardKernels { get; set; } = Environment.GetEnvironmentVariable("FLASHATTN_BACKWARD_OVERLAP") != "0";

    /// <summary>Dropout without ALiBi or softcap: the feature set whose D64 dQ kernel differs (run 36).</summary>
    private static bool DropoutOnly(AttentionOptions? options) =>
        options is { DropoutP: > 0f, Softcap: 0f } && options.AlibiSlopes.IsEmpty;

    private void RunBackward<T, TScore, TMask>(AttentionProblem problem, BackwardKernelSet set,
        ArrayView1D<T, Stride1D.Dense> q, ArrayView1D<T, Stride1D.Dense> k, ArrayView1D<T, Stride1D.Dense> v,
        ArrayView1D<T, Stride1D.Dense> output, ArrayView1D<float, Stride1D.Dense> lse, ArrayView1D<T, Stride1D.Dense> dOutput,
        ArrayView1D<T, Stride1D.Dense> dq, ArrayView1D<T, Stride1D.Dense> dk, ArrayView1D<T, Stride1D.Dense> dv,
        TScore scoreMod, TMask maskMod)
        where T : unmanaged
        where TScore : unmanaged, ICudaScoreMod
        where TMask : unmanaged, ICudaMaskMod
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var kind = ElementKind<T>();
        CheckSupported(problem);
        bool fused = set.Dq is null;
        if (set.Kv.Any(x => x.HeadDim < problem.HeadDim) || (set.Dq is { } dqk && dqk.HeadDim < problem.HeadDim))
            throw new NotSupportedException($"Backward kernels {string.Join("+", set.Kv.Select(x => x.Name))}/{set.Dq?.Name} do not fit head dim {problem.HeadDim}.");
        string shapeText = problem.ShapeText;
        CheckView(q, problem.QueryLength, nameof(q), shapeText);
        CheckView(k, problem.KeyValueLength, nameof(k), shapeText);
        CheckView(v, problem.KeyValueLength, nameof(v), shapeText);
        CheckView(output, problem.QueryLength, nameof(output), shapeText);
        CheckView(lse, problem.LseLength, nameof(lse), shapeText);
        CheckView(dOutput, problem.QueryLength, nameof(dOutput), shapeText);
        CheckView(dq, problem.QueryLength, nameof(dq), shapeText);
        CheckView(dk, problem.KeyValueLength, nameof(dk), shapeText);
        CheckView(dv, problem.KeyValueLength, nameof(dv), shapeText);
        if (problem.TotalQ == 0 && problem.TotalK == 0)
            return;
        lock (_callGate)
            EnqueueBackward(problem, set, kind, q, k, v, output, lse, dOutput, dq, dk, dv, scoreMod, maskMod);
    }

    private void EnqueueBackward<T, TScore, TMask>(AttentionProblem problem, BackwardKernelSet set, Type kind,
        ArrayView1D<T, Stride1D.Dense> q, ArrayView1D<T, Stride1D.Dense> k, ArrayView1D<T, Stride1D.Dense> v,
        ArrayView1D<T, Stride1D.Dense> output, ArrayView1D<float, Stride1D.Dense> lse, ArrayView1D<T, Stride1D.Dense> dOutput,
        ArrayView1D<T, Stride1D.Dense> dq, ArrayView1D<T, Stride1D.Dense> dk, ArrayView1D<T, Stride1D.Dense> dv,
        TScore scoreMod, TMask maskMod)
        where T : unmanaged
        where TScore : unmanaged, ICudaScoreMod
        where TMask : unmanaged, ICudaMaskMod
    {
        bool fused = set.Dq is null;
        bool floatStorage = typeof(T) == typeof(float);
        bool chain = problem.Variant == AttentionVariant.Cosine && problem.L2Normalize;
        var inputs = PrepareInputs(problem, q, k, v, dOutput);
        var shared = UploadShared(problem);
        int seqQPad = BlockInfo.BlockCount(problem.MaxSeqQ, BackwardKernels.RowPadding) * BackwardKernels.RowPadding;
        long rowFloats = (long)problem.Batch * problem.Heads * seqQPad;
        var rowDot = Scratch<float>("bwd.rowdot", rowFloats);
        var lse2 = Scratch<float>("bwd.lse2", rowFloats);
        var dqAccum = fused ? Scratch<float>("bwd.dqacc", problem.QueryLength) : default;
        // Through the cosine chain, dq and dk first come out in float32 (the chain needs them unrounded).
        var dqOut = chain ? Scratch<float>("bwd.dqhat", problem.QueryLength) : default;
        var dkOut = chain ? Scratch<float>("bwd.dkhat", problem.KeyValueLength) : default;
        ulong dqAddress = chain ? Address(dqOut) : Address(dq), dkAddress = chain ? Address(dkOut) : Address(dk);

        var parameters = BackwardParameters(problem, seqQPad, inputs.Q, inputs.K, inputs.V, Address(output), Address(lse), inputs.DO,
            dqAddress, dkAddress, Address(dv), Address(dqAccum), Address(rowDot), Address(lse2), shared) with
        {
            DqFloat = chain || floatStorage ? 1 : 0,
            DkFloat = chain || floatStorage ? 1 : 0,
            DvFloat = floatStorage ? 1 : 0,
            FloatInputs = floatStorage ? 1 : 0,
        };
        var ranges = inputs.Ranges.Concat(shared.Ranges)
            .Concat([Range(output), Range(lse), Range(dOutput), Range(dq), Range(dk), Range(dv), Range(rowDot), Range(lse2), Range(dqAccum), Range(dqOut), Range(dkOut)])
            .ToArray();
        Type mode = ScoreMode(problem), features = Features(problem, kind);
        var mods = new ModPair<TScore, TMask>(scoreMod, maskMod);

        // 1. D = rowsum(dO∘O) (of the caller's O and dO, float32 ones read as such), LSE in base 2, the dQ accumulator cleared.
        var prepare = GetKernel(typeof(BackwardKernels).GetMethod(nameof(BackwardKernels.Prepare))!.MakeGenericMethod(kind),
            "Prepare", BackwardKernels.PrepareThreads, 0);
        if (set.Stages.HasFlag(BackwardStages.Prepare))
            // fp32 storage: D from the fp16 copy of dO the kernels use (with the float32 O), so that D = rowsum(P∘dP) holds
        // for the very dP the kernels compute; with the unrounded dO a residual gradient would remain where the true one is 0.
        Launch(prepare, (seqQPad / 4, problem.Heads, problem.Batch), parameters with { O = Address(output), DO = floatStorage ? inputs.DO : Address(dOutput) }, ranges);

        // 2 and 3 of the split path are independent (both read only the inputs and step 1's rows): on a GPU the dQ kernel
        // runs on a second stream beside the dK/dV kernels, so each fills the other's tail; the default stream then
        // waits for it, and the caller sees one ordered stream.
        bool overlap = !fused && !IsEmulated && set.Stages == BackwardStages.All && OverlapBackwardKernels;
        var side = overlap ? SideStream() : default;
        if (overlap)
        {
            var defaultStream = ((ILGPU.Runtime.Cuda.CudaStream)Accelerator.DefaultStream).StreamPtr;
            Accelerator.Bind();
            CudaModule.Check(ILGPU.Runtime.Cuda.CudaAPI.CurrentAPI.RecordEvent(side.Fork, defaultStream), "cuEventRecord");
            CudaModule.StreamWaitEvent(side.Side, side.Fork);
            LaunchDq(side.Side);
            CudaModule.Check(ILGPU.Runtime.Cuda.CudaAPI.CurrentAPI.RecordEvent(side.Join, side.Side), "cuEventRecord");
        }

        // 2. dK and dV per key block (head dim 256: a dV pass and a dK pass), with dQ by atomics when fused.
        var hopperKv = set.Stages.HasFlag(BackwardStages.KeyValue) ? Sm90KvForm(set, problem, kind, typeof(TScore), typeof(TMask)) : null;
        if (hopperKv is not null)
        {
            var kernel = GetKernel(hopperKv.Kernel, hopperKv.Label, hopperKv.Threads, hopperKv.SharedBytes, hopperKv.MinBlocksPerSm);
            Launch(kernel, Sm90BackwardKv.LaunchGrid(hopperKv, problem), parameters, ranges);
        }
        foreach (var kv in set.Stages.HasFlag(BackwardStages.KeyValue) && hopperKv is null ? set.Kv : [])
        {
            var kernel = GetKernel(kv.Method(kind, mode, features, typeof(TScore), typeof(TMask), Layout(problem)), kv.Name, kv.Threads, kv.SharedBytes);
            int blocks = BlockInfo.BlockCount(problem.MaxSeqK, kv.BlockN);
            // A key block streams Q and dO (16-bit) of every query head that shares its K/V head.
            var kvParameters = Ordered(parameters, problem, blocks, problem.KvHeads, 4L * problem.MaxSeqQ * problem.HeadDim * problem.GroupSize);
            Launch(kernel, GroupedGrid(blocks, problem.KvHeads, problem.Batch, kvParameters.HeadGroupShift), kvParameters, mods, ranges);
        }

        // 3. dq: converted from the accumulator, or computed per query block without atomics.
        if (overlap)
        {
            CudaModule.StreamWaitEvent(((ILGPU.Runtime.Cuda.CudaStream)Accelerator.DefaultStream).StreamPtr, side.Join);
        }
        else if (!set.Stages.HasFlag(BackwardStages.Query))
        {
            return;
        }
        else if (fused)
        {
            var convert = GetKernel(typeof(BackwardKernels).GetMethod(nameof(BackwardKernels.ConvertDq))!.MakeGenericMethod(kind),
                "ConvertDq", BackwardKernels.ConvertThreads, 0);
            long pairs = problem.QueryLength / 2;
            Launch(convert, ((int)((pairs + BackwardKernels.ConvertThreads - 1) / BackwardKernels.ConvertThreads), 1, 1), parameters, ranges);
        }
        else
        {
            LaunchDq(IntPtr.Zero);
        }

        // 4. Cosine attention: through the L2 normalisation of q and k.
        if (chain)
        {
            NormalizeBackward<T>(kind, dqOut, q, dq, (long)problem.TotalQ * problem.Heads, problem);
            NormalizeBackward<T>(kind, dkOut, k, dk, (long)problem.TotalK * problem.KvHeads, problem);
        }

        // The split path's dQ kernel on a stream (zero: the default one): the wgmma kernel where it applies, else the set's.
        void LaunchDq(IntPtr stream)
        {
            if (Sm90DqForm(set, problem, kind, typeof(TScore), typeof(TMask)) is { } form)
            {
                var hopper = GetKernel(form.Kernel, form.Label, form.Threads, form.SharedBytes, form.MinBlocksPerSm);
                Launch(hopper, Sm90BackwardDq.LaunchGrid(form, problem), parameters, ranges, stream);
                return;
            }
            var dqv = set.Dq!;
            var kernel = GetKernel(dqv.Method(kind, mode, features, typeof(TScore), typeof(TMask), Layout(problem)), dqv.Name, dqv.Threads, dqv.SharedBytes);
            int blocks = BlockInfo.BlockCount(problem.MaxSeqQ, dqv.BlockM);
            var dqParameters = Ordered(parameters, problem, blocks, problem.Heads, KeyValueBytesPerHead(problem));
            Launch(kernel, GroupedGrid(blocks, problem.Heads, problem.Batch, dqParameters.HeadGroupShift), dqParameters, mods, ranges, stream);
        }
    }

    /// <summary>
    /// The wgmma dQ kernel (<see cref="Sm90BackwardDq"/>) a split backward call runs, or null for the set's own: it needs
    /// a set that allows it, a selected form, an sm_90 GPU (not the host emulation) and a call the kernel
    /// <see cref="Sm90BackwardDq.Applies(AttentionProblem, bool, bool)"/> to.
    /// </summary>
    private Sm90BackwardDq.Form? Sm90DqForm(BackwardKernelSet set, AttentionProblem problem, Type kind, Type score, Type mask) =>
        set.Hopper && set.Dq is not null && IsSm90 && !IsEmulated
        && Sm90BackwardDq.Applies(problem, kind == typeof(Bf16Kind), score != typeof(NoCudaScoreMod) || mask != typeof(NoCudaMaskMod))
            ? Sm90BackwardDq.Selected
            : null;

    /// <summary>
    /// The wgmma dK/dV kernel (<see cref="Sm90BackwardKv"/>) a split backward call runs, or null for the set's own: the
    /// conditions of <see cref="Sm90DqForm"/> with <see cref="Sm90BackwardKv.Applies(AttentionProblem, bool, bool)"/>.
    /// </summary>
    private Sm90BackwardKv.Form? Sm90KvForm(BackwardKernelSet set, AttentionProblem problem, Type kind, Type score, Type mask) =>
        set.Hopper && set.Dq is not null && IsSm90 && !IsEmulated
        && Sm90BackwardKv.Applies(problem, kind == typeof(Bf16Kind), score != typeof(NoCudaScoreMod) || mask != typeof(NoCudaMaskMod))
            ? Sm90BackwardKv.Selected(problem.HeadDim)
            : null;

    /// <summary>The label of the dK/dV kernel a default backward call takes (probe and tests): the wgmma kernel's or the set's.</summary>
    internal string KvKernelLabel(AttentionShape shape, AttentionOptions? options, Type kind)
    {
        var problem = new AttentionProblem(shape, options);
        var set = Kernels(shape.HeadDim, options);
        return Sm90KvForm(set, problem, kind, typeof(NoCudaScoreMod), typeof(NoCudaMaskMod))?.Label ?? string.Join("+", set.Kv.Select(x => x.Name));
    }

    /// <summary>The label of the dQ kernel a default backward call takes (probe and tests): the wgmma kernel's or the set's.</summary>
    internal string DqKernelLabel(AttentionShape shape, AttentionOptions? options, Type kind)
    {
        var problem = new AttentionProblem(shape, options);
        var set = Kernels(shape.HeadDim, options);
        return Sm90DqForm(set, problem, kind, typeof(NoCudaScoreMod), typeof(NoCudaMaskMod))?.Label ?? set.Dq?.Name ?? "fused";
    }

    /// <summary>
    /// A dQ or dK/dV kernel's parameters: its blocks per head and, under a mask, the longest-first order over groups of
    /// <paramref name="heads"/> (<see cref="OrderedHeadGroupShift"/>).
    /// </summary>
    private static BackwardParams Ordered(BackwardParams parameters, AttentionProblem problem, int blocks, int heads, long bytesPerHead) =>
        parameters with { GridBlocks = blocks, HeadGroupShift = OrderedHeadGroupShift(problem, heads, bytesPerHead) };

    private static BackwardParams BackwardParameters(AttentionProblem problem, int seqQPad, ulong q, ulong k, ulong v, ulong output,
        ulong lse, ulong dOutput, ulong dq, ulong dk, ulong dv, ulong dqAccum, ulong rowDot, ulong lse2, SharedInputs shared) => new()
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
        KeyMask = shared.KeyMask,
        Alibi = shared.Alibi,
        SeqQ = problem.MaxSeqQ,
        SeqK = problem.MaxSeqK,
        SeqQPad = seqQPad,
        HeadDim = problem.HeadDim,
        Heads = problem.Heads,
        KvHeads = problem.KvHeads,
        GroupSize = problem.GroupSize,
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
        DqElements = problem.QueryLength,
        TotalQ = problem.TotalQ,
        KeyMaskStride = problem.MaxSeqK,
        CuQ = shared.CuQ,
        CuK = shared.CuK,
    };
}
