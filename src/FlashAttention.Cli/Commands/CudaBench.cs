using System.Globalization;
using System.Reflection;
using System.Text;
using System.Text.Json;
using FlashAttention.Cuda;
using FlashAttention.Cuda.Ptx;
using ILGPU;
using ILGPU.Runtime;
using Spectre.Console;

namespace FlashAttention.Cli.Commands;

/// <summary>
/// <c>flashattn bench --device cuda</c>: forward and backward TFLOP/s on the GPU over FlashAttention's benchmark grid —
/// batch·seqlen = 16k tokens, model dim 2048 (H = 2048/D), seqlen 512…16k, head dims 64 and 128, causal and not —
/// bf16 (or fp16). Times are medians of CUDA event intervals per call after warm-up, on random normal inputs (never
/// zeros); the backward time is the whole backward call (preprocessing, dK/dV, dQ). FLOPs as the FlashAttention papers:
/// forward 4·B·H·N²·D (halved when causal), backward 2.5× forward. The peers (PyTorch's FlashAttention-2 and cuDNN
/// backends) are measured by <c>shared/tools/peers_gpu.py</c> in the same device session.
/// </summary>
internal static class CudaBench
{
    private const int Tokens = 16384, ModelDim = 2048;

    /// <summary>A point's label in the GPU table: length and head dim first, as FlashAttention's grid reads.</summary>
    internal static string Label(BenchConfig p) =>
        $"N={p.SeqLen} D={p.HeadDim}{(p.Causal ? " causal" : "")} (B={p.Batch} H={p.Heads}){(p.ForwardOnly ? " fwd" : "")}";

    /// <summary>Elements of q (and of k, v, o, dO: self-attention, H = Hkv).</summary>
    private static long Elements(BenchConfig p) => (long)p.Batch * p.SeqLen * p.Heads * p.HeadDim;

    /// <summary>FlashAttention's grid; quick: seqlen 2k and 8k.</summary>
    internal static List<BenchConfig> Grid(bool quick)
    {
        int[] lengths = quick ? [2048, 8192] : [512, 1024, 2048, 4096, 8192, 16384];
        var grid = new List<BenchConfig>();
        foreach (int d in new[] { 64, 128 })
            foreach (bool causal in new[] { false, true })
                foreach (int n in lengths)
                    grid.Add(new BenchConfig(Tokens / n, ModelDim / d, n, d, causal, ForwardOnly: false));
        return grid;
    }

    /// <summary>One measured point: medians, with the fastest and slowest timed call of each (the spread flags throttling or a disturbed run).</summary>
    internal sealed record Row(BenchConfig Point, string Dtype, (double Median, double Min, double Max) Forward, double ForwardTflops,
        (double Median, double Min, double Max)? Backward, double? BackwardTflops, long WorkspaceBytes);

    /// <param name="quick">The short grid (2k and 8k).</param>
    /// <param name="points">The caller's shapes (<c>--config</c>) instead of the grid; null for the grid.</param>
    /// <param name="dtype">bf16 or fp16.</param>
    /// <param name="repeats">Timed calls per measurement.</param>
    /// <param name="jsonPath">Where the JSON goes; null for none.</param>
    /// <param name="markdown">Also print a Markdown table.</param>
    /// <param name="commandLine">The command line, for the JSON.</param>
    /// <param name="console">Where output goes.</param>
    public static int Run(bool quick, IReadOnlyList<BenchConfig>? points, string dtype, int repeats, string? jsonPath, bool markdown, string commandLine, IAnsiConsole console)
    {
        if (!CudaAttention.IsAvailable)
        {
            console.WriteLine($"--device cuda: the CUDA backend is not available: {CudaAttention.UnavailableReason}; use --device cpu.");
            return ExitCodes.UsageError;
        }
        using var cuda = new CudaAttention();
        return Run(cuda, quick, points, dtype, repeats, jsonPath, markdown, commandLine, console);
    }

    /// <summary>The same on a given backend (tests pass the host emulation).</summary>
    internal static int Run(CudaAttention cuda, bool quick, IReadOnlyList<BenchConfig>? points, string dtype, int repeats, string? jsonPath, bool markdown,
        string commandLine, IAnsiConsole console)
    {
        var grid = points?.ToList() ?? Grid(quick);
        console.MarkupLine($"[bold]flashattn bench --device cuda[/] — {Markup.Escape(cuda.Accelerator.Name)}, {dtype}, " +
            (points is null ? $"{Tokens} tokens, model dim {ModelDim}" : $"{grid.Count} given shape(s)") + $", median of {repeats} calls (CUDA events)");
        var rows = dtype == "fp16" ? Measure<System.Half>(cuda, grid, repeats, console) : Measure<BFloat16>(cuda, grid, repeats, console);
        var table = new Table().Border(TableBorder.Rounded).Title("GPU forward and backward (FLOPs: forward 4·B·H·N²·D, halved when causal; backward 2.5×)")
            .AddColumn("point").AddColumn("dtype");
        foreach (var name in new[] { "fwd ms", "fwd TFLOP/s", "bwd ms", "bwd TFLOP/s", "workspace" })
            table.AddColumn(new TableColumn(name).RightAligned());
        foreach (var r in rows)
            table.AddRow(Cells(r).Select(Markup.Escape).ToArray());
        console.Write(table);
        if (markdown)
        {
            var sb = new StringBuilder();
            sb.AppendLine("| point | dtype | fwd ms | fwd TFLOP/s | bwd ms | bwd TFLOP/s | workspace |");
            sb.AppendLine("| --- | --- | ---: | ---: | ---: | ---: | ---: |");
            foreach (var r in rows)
                sb.Append("| ").AppendJoin(" | ", Cells(r)).AppendLine(" |");
            console.Profile.Out.Writer.Write(sb.ToString());
        }
        if (jsonPath is not null)
        {
            WriteJson(jsonPath, cuda, dtype, repeats, commandLine, rows);
            console.MarkupLine($"Wrote [bold]{Markup.Escape(jsonPath)}[/].");
        }
        return ExitCodes.Ok;
    }

    private static string[] Cells(Row r) =>
    [
        Label(r.Point), r.Dtype, r.Forward.Median.ToString("F3", CultureInfo.InvariantCulture), r.ForwardTflops.ToString("F1", CultureInfo.InvariantCulture),
        r.Backward?.Median.ToString("F3", CultureInfo.InvariantCulture) ?? "–", r.BackwardTflops?.ToString("F1", CultureInfo.InvariantCulture) ?? "–",
        BenchCommand.Bytes(r.WorkspaceBytes),
    ];

    private static List<Row> Measure<T>(CudaAttention cuda, List<BenchConfig> grid, int repeats, IAnsiConsole console) where T : unmanaged
    {
        var acc = cuda.Accelerator;
        // One set of buffers for the whole grid, sized for its largest point (the FlashAttention grid: 16k tokens × 2048 each).
        long elements = grid.Max(Elements);
        long lseLength = grid.Max(p => (long)p.Batch * p.Heads * p.SeqLen);
        using var q = Random<T>(acc, elements, 11);
        using var k = Random<T>(acc, elements, 12);
        using var v = Random<T>(acc, elements, 13);
        using var dO = Random<T>(acc, elements, 14);
        using var o = acc.Allocate1D<T>(elements);
        using var dq = acc.Allocate1D<T>(elements);
        using var dk = acc.Allocate1D<T>(elements);
        using var dv = acc.Allocate1D<T>(elements);
        using var lse = acc.Allocate1D<float>(lseLength);
        var rows = new List<Row>();
        console.Progress().AutoClear(true)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
            .Start(ctx =>
            {
                var task = ctx.AddTask("bench", maxValue: grid.Count);
                foreach (var point in grid)
                {
                    task.Description = Markup.Escape(Label(point));
                    var shape = point.Shape;
                    var options = new AttentionOptions { Causal = point.Causal };
                    var lseView = lse.View.SubView(0, shape.LseLength);
                    long n = Elements(point);
                    var (qv, kv, vv, ov) = (q.View.SubView(0, n), k.View.SubView(0, n), v.View.SubView(0, n), o.View.SubView(0, n));
                    var fwd = DeviceTimer.Milliseconds(cuda, () => cuda.Forward(shape, qv, kv, vv, ov, lseView, options), 3, repeats);
                    (double Median, double Min, double Max)? bwd = point.ForwardOnly ? null : DeviceTimer.Milliseconds(cuda,
                        () => cuda.Backward(shape, qv, kv, vv, ov, lseView, dO.View.SubView(0, n), dq.View.SubView(0, n), dk.View.SubView(0, n),
                            dv.View.SubView(0, n), options), 3, repeats);
                    double flops = point.ForwardFlops;
                    rows.Add(new Row(point, typeof(T) == typeof(BFloat16) ? "bf16" : "fp16", fwd, flops / (fwd.Median * 1e9),
                        bwd, bwd is { } b ? 2.5 * flops / (b.Median * 1e9) : null, cuda.WorkspaceBytes));
                    task.Increment(1);
                }
            });
        return rows;
    }

    /// <summary>Standard normal values (Box-Muller), never zeros, uploaded once for the whole grid.</summary>
    private static MemoryBuffer1D<T, Stride1D.Dense> Random<T>(Accelerator acc, long count, int seed) where T : unmanaged
    {
        var values = new T[count];
        Parallel.For(0, (int)((count + (1 << 20) - 1) >> 20), chunk =>
        {
            var random = new Random(seed * 7919 + chunk);
            long start = (long)chunk << 20, end = Math.Min(count, start + (1 << 20));
            for (long i = start; i < end; i++)
            {
                double u1 = 1.0 - random.NextDouble(), u2 = random.NextDouble();
                float x = (float)(Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2));
                values[i] = typeof(T) == typeof(BFloat16) ? (T)(object)(BFloat16)x : (T)(object)(System.Half)x;
            }
        });
        var buffer = acc.Allocate1D<T>(count);
        buffer.View.CopyFromCPU(values);
        return buffer;
    }

    private static void WriteJson(string path, CudaAttention cuda, string dtype, int repeats, string commandLine, List<Row> rows)
    {
        using var stream = File.Create(path);
        using var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true });
        w.WriteStartObject();
        w.WriteString("tool", "flashattn bench --device cuda");
        w.WriteString("command", commandLine);
        w.WriteString("date", DateTime.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture));
        w.WriteString("library", typeof(CudaAttention).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown");
        w.WriteString("device", cuda.Accelerator.Name);
        w.WriteString("dtype", dtype);
        w.WriteNumber("repeats", repeats);
        w.WriteString("flops", "forward 4*B*H*N*N*D (halved when causal), backward 2.5x forward");
        w.WriteStartArray("rows");
        foreach (var r in rows)
        {
            w.WriteStartObject();
            w.WriteNumber("batch", r.Point.Batch);
            w.WriteNumber("heads", r.Point.Heads);
            w.WriteNumber("seqlen", r.Point.SeqLen);
            w.WriteNumber("headDim", r.Point.HeadDim);
            w.WriteBoolean("causal", r.Point.Causal);
            w.WriteString("dtype", r.Dtype);
            w.WriteNumber("forwardMs", Math.Round(r.Forward.Median, 4));
            w.WriteNumber("forwardMinMs", Math.Round(r.Forward.Min, 4));
            w.WriteNumber("forwardMaxMs", Math.Round(r.Forward.Max, 4));
            w.WriteNumber("forwardTflops", Math.Round(r.ForwardTflops, 1));
            if (r.Backward is { } b)
            {
                w.WriteNumber("backwardMs", Math.Round(b.Median, 4));
                w.WriteNumber("backwardMinMs", Math.Round(b.Min, 4));
                w.WriteNumber("backwardMaxMs", Math.Round(b.Max, 4));
                w.WriteNumber("backwardTflops", Math.Round(r.BackwardTflops!.Value, 1));
            }
            else
            {
                w.WriteNull("backwardMs");
                w.WriteNull("backwardTflops");
            }
            w.WriteNumber("workspaceBytes", r.WorkspaceBytes);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
    }
}
