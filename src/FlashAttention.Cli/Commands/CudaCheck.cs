using System.Diagnostics;
using FlashAttention.Cpu;
using FlashAttention.Cuda;
using ILGPU;
using ILGPU.Runtime;
using Spectre.Console;
using Half = System.Half;

namespace FlashAttention.Cli.Commands;

/// <summary>
/// <c>flashattn check --device cuda</c>: the option matrix of the CPU check on the GPU. Each case × dtype runs the
/// forward pass (with the returned softmax where the case asks for it) and the backward pass on the device, on fresh
/// random inputs, and compares every tensor with the double-precision reference; the CPU backend runs on the same inputs
/// ("cpu worst" is its largest error), and where dropout meets the returned softmax the GPU's dropout mask (the sign
/// bits) must equal the CPU's bit for bit. Cases the GPU refuses by design (head dims that are not multiples of 8) are
/// listed with the message it gave.
/// </summary>
internal static class CudaCheck
{
    public static int Run(CheckSettings settings, IAnsiConsole console)
    {
        using var cuda = new CudaAttention();
        return Run(cuda, CheckCases.Build(settings.Quick), settings, console);
    }

    /// <summary>Runs <paramref name="cases"/> on <paramref name="cuda"/> (a GPU, or the host emulation in tests) and reports.</summary>
    internal static int Run(CudaAttention cuda, IReadOnlyList<CheckCase> cases, CheckSettings settings, IAnsiConsole console)
    {
        console.MarkupLine($"[bold]flashattn check --device cuda[/] — {Markup.Escape(cuda.Accelerator.Name)}, seed [yellow]{settings.Seed}[/] " +
            $"(replay with --seed {settings.Seed}), {(settings.Quick ? "quick" : "full")} matrix, {cases.Count} cases × 3 dtypes");
        var results = new List<CheckResult>();
        var clock = Stopwatch.StartNew();
        console.Progress()
            .AutoClear(true)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
            .Start(ctx =>
            {
                var task = ctx.AddTask("checking", maxValue: cases.Count * 3);
                for (int i = 0; i < cases.Count; i++)
                {
                    var c = cases[i];
                    var data = CaseData.Create(c, unchecked(settings.Seed + 7919 * (i + 1)));
                    foreach (var dtype in CheckDtypes.All)
                    {
                        task.Description = Markup.Escape($"{c.Name} {dtype.Name()}");
                        results.Add(dtype switch
                        {
                            CheckDtype.Float32 => RunCase<float>(cuda, c, data, dtype, settings.Threads),
                            CheckDtype.Float16 => RunCase<Half>(cuda, c, data, dtype, settings.Threads),
                            _ => RunCase<BFloat16>(cuda, c, data, dtype, settings.Threads),
                        });
                        task.Increment(1);
                    }
                }
            });
        clock.Stop();
        console.MarkupLine("[grey]GPU bars: out/dq/dk/dv as the CPU's fp16/bf16 bars (fp32 storage is computed in fp16: the fp16 bar); " +
            "lse and P the float32 bar, or the dtype's where the GPU rounds the inputs itself (fp32 storage, cosine's normalised q and k).[/]");
        return CheckCommand.Report(console, results, clock.Elapsed, settings.Seed);
    }

    /// <summary>The pass bar of one tensor on the GPU.</summary>
    private static double Bar(CheckCase c, CheckDtype dtype, CheckTensor tensor, AttentionOptions options)
    {
        double storage = dtype == CheckDtype.BFloat16 ? Thresholds.BFloat16 : Thresholds.Float16;
        bool roundedInputs = dtype == CheckDtype.Float32 || (options.Variant == AttentionVariant.Cosine && options.L2NormalizeQK);
        if (tensor is CheckTensor.Lse or CheckTensor.Softmax)
            return roundedInputs ? storage : Thresholds.Float32;
        return storage;
    }

    private static CheckResult RunCase<T>(CudaAttention cuda, CheckCase c, CaseData data, CheckDtype dtype, int threads) where T : unmanaged
    {
        var options = data.Options with { MaxDegreeOfParallelism = threads };
        var result = new CheckResult(c.Name, dtype) { Bar = (d, t) => Bar(c, d, t, options) };
        if (!CudaAttention.SupportsHeadDim(c.D))
        {
            result.Refused = $"head dim {c.D} (the GPU takes multiples of 8 up to {CudaAttention.MaxHeadDim})";
            return result;
        }
        try
        {
            T[] q = Convert<T>(data.Q), k = Convert<T>(data.K), v = Convert<T>(data.V), dOut = Convert<T>(data.DOut);
            var reference = Reference(c, q, k, v, dOut, options);
            var cpu = CpuRun(c, q, k, v, dOut, options);

            var acc = cuda.Accelerator;
            using var bq = Upload(acc, q);
            using var bk = Upload(acc, k);
            using var bv = Upload(acc, v);
            using var bdo = Upload(acc, dOut);
            using var bo = acc.Allocate1D<T>(Math.Max(1, c.QueryLength));
            using var blse = acc.Allocate1D<float>(Math.Max(1, c.LseLength));
            using var bp = acc.Allocate1D<float>(Math.Max(1, c.ReturnSoftmax ? c.SoftmaxLength : 1));
            using var bdq = acc.Allocate1D<T>(Math.Max(1, c.QueryLength));
            using var bdk = acc.Allocate1D<T>(Math.Max(1, c.KeyValueLength));
            using var bdv = acc.Allocate1D<T>(Math.Max(1, c.KeyValueLength));
            bo.View.MemSet(0xFF);
            bdq.View.MemSet(0xFF);
            bdk.View.MemSet(0xFF);
            bdv.View.MemSet(0xFF);
            blse.View.MemSet(0xFF);
            bp.View.MemSet(0xFF);
            var qv = View(bq, q.Length);
            var kv = View(bk, k.Length);
            var vv = View(bv, v.Length);
            var dov = View(bdo, dOut.Length);
            var ov = View(bo, c.QueryLength);
            var lv = View(blse, c.LseLength);
            var pv = c.ReturnSoftmax ? View(bp, c.SoftmaxLength) : default;
            var dqv = View(bdq, c.QueryLength);
            var dkv = View(bdk, c.KeyValueLength);
            var dvv = View(bdv, c.KeyValueLength);
            switch (c.Kind)
            {
                case CaseKind.Varlen:
                    cuda.ForwardVarlen(c.Layout(), qv, kv, vv, ov, lv, options, pv);
                    cuda.BackwardVarlen(c.Layout(), qv, kv, vv, ov, lv, dov, dqv, dkv, dvv, options);
                    break;
                case CaseKind.DenseUserMods:
                    var score = new GpuCheckScoreMod();
                    var mask = new GpuPrefixLmMask(c.Shape.SeqLenK / 5);
                    cuda.Forward(c.Shape, qv, kv, vv, ov, lv, score, mask, options, pv);
                    cuda.Backward(c.Shape, qv, kv, vv, ov, lv, dov, dqv, dkv, dvv, score, mask, options);
                    break;
                default:
                    if (c.ReturnSoftmax)
                        cuda.Forward(c.Shape, qv, kv, vv, ov, lv, pv, options);
                    else
                        cuda.Forward(c.Shape, qv, kv, vv, ov, lv, options);
                    cuda.Backward(c.Shape, qv, kv, vv, ov, lv, dov, dqv, dkv, dvv, options);
                    break;
            }
            cuda.Synchronize();

            result.Errors[CheckTensor.Output] = ErrorMeasure.Relative(ToFloat(Download(bo, c.QueryLength)), reference.Forward.Output);
            result.Errors[CheckTensor.Lse] = ErrorMeasure.Relative(Download(blse, c.LseLength), reference.Forward.Lse);
            if (c.ReturnSoftmax)
            {
                var p = Download(bp, c.SoftmaxLength);
                result.Errors[CheckTensor.Softmax] = ErrorMeasure.RelativeMagnitude(p, reference.Forward.Probabilities, out long mismatches, out long signChecked);
                // The dropout mask, bit for bit against the CPU backend's (every entry, zeros included).
                long cpuDiffers = 0;
                for (long i = 0; i < p.Length; i++)
                    if (float.IsNegative(p[i]) != float.IsNegative(cpu.Softmax[i]))
                        cpuDiffers++;
                if (mismatches > 0 || (options.DropoutP > 0 && cpuDiffers > 0))
                {
                    result.Failed = true;
                    result.Note = $"dropout sign bit: {mismatches} of {signChecked} differ from the reference, {cpuDiffers} of {p.Length} from the CPU backend";
                }
            }
            result.Errors[CheckTensor.DQ] = ErrorMeasure.Relative(ToFloat(Download(bdq, c.QueryLength)), reference.Gradients.DQ);
            result.Errors[CheckTensor.DK] = ErrorMeasure.Relative(ToFloat(Download(bdk, c.KeyValueLength)), reference.Gradients.DK);
            result.Errors[CheckTensor.DV] = ErrorMeasure.Relative(ToFloat(Download(bdv, c.KeyValueLength)), reference.Gradients.DV);
            result.CpuWorst = new[]
            {
                ErrorMeasure.Relative(ToFloat(cpu.Output), reference.Forward.Output), ErrorMeasure.Relative(ToFloat(cpu.Dq), reference.Gradients.DQ),
                ErrorMeasure.Relative(ToFloat(cpu.Dk), reference.Gradients.DK), ErrorMeasure.Relative(ToFloat(cpu.Dv), reference.Gradients.DV),
            }.Max();
        }
        catch (Exception e)
        {
            result.Failed = true;
            result.Note = $"{e.GetType().Name}: {e.Message}";
        }
        return result;
    }

    private sealed record ReferenceRun(ReferenceForward Forward, ReferenceGradients Gradients);

    private static ReferenceRun Reference<T>(CheckCase c, T[] q, T[] k, T[] v, T[] dOut, AttentionOptions options) where T : unmanaged => c.Kind switch
    {
        CaseKind.Varlen => new(ReferenceAttention.ForwardVarlen<T>(c.Layout(), q, k, v, options), ReferenceAttention.BackwardVarlen<T>(c.Layout(), q, k, v, dOut, options)),
        CaseKind.DenseUserMods => new(
            ReferenceAttention.Forward<T, CpuCheckScoreMod, PrefixLmMask>(c.Shape, q, k, v, default, new PrefixLmMask(c.Shape.SeqLenK / 5), options),
            ReferenceAttention.Backward<T, CpuCheckScoreMod, PrefixLmMask>(c.Shape, q, k, v, dOut, default, new PrefixLmMask(c.Shape.SeqLenK / 5), options)),
        _ => new(ReferenceAttention.Forward<T>(c.Shape, q, k, v, options), ReferenceAttention.Backward<T>(c.Shape, q, k, v, dOut, options)),
    };

    private sealed record CpuResult<T>(T[] Output, float[] Softmax, T[] Dq, T[] Dk, T[] Dv);

    private static CpuResult<T> CpuRun<T>(CheckCase c, T[] q, T[] k, T[] v, T[] dOut, AttentionOptions options) where T : unmanaged
    {
        var o = new T[c.QueryLength];
        var lse = new float[c.LseLength];
        float[] p = c.ReturnSoftmax ? new float[c.SoftmaxLength] : [];
        T[] dq = new T[c.QueryLength], dk = new T[c.KeyValueLength], dv = new T[c.KeyValueLength];
        switch (c.Kind)
        {
            case CaseKind.Varlen:
                Attention.ForwardVarlen<T>(c.Layout(), q, k, v, o, lse, options, p);
                Attention.BackwardVarlen<T>(c.Layout(), q, k, v, o, lse, dOut, dq, dk, dv, options);
                break;
            case CaseKind.DenseUserMods:
                var mask = new PrefixLmMask(c.Shape.SeqLenK / 5);
                Attention.Forward<T, CpuCheckScoreMod, PrefixLmMask>(c.Shape, q, k, v, o, lse, default, mask, options, p);
                Attention.Backward<T, CpuCheckScoreMod, PrefixLmMask>(c.Shape, q, k, v, o, lse, dOut, dq, dk, dv, default, mask, options);
                break;
            default:
                Attention.Forward<T>(c.Shape, q, k, v, o, lse, options, p);
                Attention.Backward<T>(c.Shape, q, k, v, o, lse, dOut, dq, dk, dv, options);
                break;
        }
        return new CpuResult<T>(o, p, dq, dk, dv);
    }

    private static MemoryBuffer1D<T, Stride1D.Dense> Upload<T>(Accelerator acc, T[] values) where T : unmanaged
    {
        var buffer = acc.Allocate1D<T>(Math.Max(1, values.Length));
        if (values.Length > 0)
            buffer.View.SubView(0, values.Length).CopyFromCPU(values);
        return buffer;
    }

    private static ArrayView1D<T, Stride1D.Dense> View<T>(MemoryBuffer1D<T, Stride1D.Dense> buffer, long length) where T : unmanaged =>
        length == 0 ? default : buffer.View.SubView(0, length);

    private static T[] Download<T>(MemoryBuffer1D<T, Stride1D.Dense> buffer, long length) where T : unmanaged
    {
        var result = new T[length];
        if (length > 0)
            buffer.View.SubView(0, length).CopyToCPU(result);
        return result;
    }

    private static T[] Convert<T>(float[] x) where T : unmanaged
    {
        var result = new T[x.Length];
        Elements.FromFloat<T>(x, result);
        return result;
    }

    private static float[] ToFloat<T>(T[] x) where T : unmanaged
    {
        var result = new float[x.Length];
        Elements.ToFloat<T>(x, result);
        return result;
    }
}

/// <summary>
/// The check's user score modifier on the GPU (and its CPU twin below): a head-dependent temperature, a quadratic term
/// and a relative-position bias, f(s) = s·(1 + h/4) + s²/20 − |i − j|/40.
/// </summary>
internal readonly struct GpuCheckScoreMod : ICudaScoreMod
{
    public bool Enabled => true;

    public float Apply(float score, in CudaScorePosition at) =>
        score * (1f + 0.25f * at.Head) + 0.05f * score * score - 0.025f * Math.Abs(at.QueryIndex - at.KeyIndex);

    public float Derivative(float score, in CudaScorePosition at) => 1f + 0.25f * at.Head + 0.1f * score;
}

/// <summary>The CPU twin of <see cref="GpuCheckScoreMod"/>.</summary>
internal readonly struct CpuCheckScoreMod : IScoreMod
{
    public float Apply(float score, in ScorePosition at) =>
        score * (1f + 0.25f * at.Head) + 0.05f * score * score - 0.025f * Math.Abs(at.QueryIndex - at.KeyIndex);

    public float Derivative(float score, in ScorePosition at) => 1f + 0.25f * at.Head + 0.1f * score;

    public void ApplyRow(Span<float> scores, Span<float> derivatives, in ScorePosition rowStart) => ScoreMods.ApplyEach(this, scores, derivatives, rowStart);
}

/// <summary>The check's prefix-LM mask on the GPU (the CPU check's <see cref="PrefixLmMask"/>, with the same tile classification).</summary>
internal readonly struct GpuPrefixLmMask(int prefix) : ICudaMaskMod
{
    private readonly int _prefix = prefix;

    public bool Enabled => true;

    public bool IsVisible(in CudaScorePosition at) => at.KeyIndex < _prefix || at.KeyIndex <= at.QueryIndex + at.SeqLenK - at.SeqLenQ;

    public BlockCoverage Classify(in TileBounds tile)
    {
        int shift = tile.SeqLenK - tile.SeqLenQ;
        if (tile.KeyEnd <= _prefix || tile.KeyEnd - 1 <= tile.QueryStart + shift)
            return BlockCoverage.Full;
        if (tile.KeyStart >= _prefix && tile.KeyStart > tile.QueryEnd - 1 + shift)
            return BlockCoverage.Empty;
        return BlockCoverage.Partial;
    }
}
