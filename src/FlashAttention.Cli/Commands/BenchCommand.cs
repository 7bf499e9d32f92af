using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using FlashAttention.Cpu;
using Spectre.Console;

namespace FlashAttention.Cli.Commands;

/// <summary>
/// <c>flashattn bench</c>: times the flash forward and backward kernels over a grid of shapes, next to standard
/// (materialised) attention run in the same process on the same inputs, and reports FLOP/s the FlashAttention way
/// (forward 4·B·H·Nq·Nk·D, halved for causal; backward 2.5× forward), the fraction of the machine's measured FMA peak,
/// and the extra memory each call allocates.
/// </summary>
internal static class BenchCommand
{
    /// <summary>Standard attention is skipped (its memory printed instead) when its score tensor would exceed this.</summary>
    internal const long StandardLimitBytes = 2L << 30;

    /// <summary>Builds the <c>bench</c> command; it writes to the invocation's output (the console unless redirected in-process).</summary>
    public static Command Create() => Create(null);

    /// <summary>Builds the <c>bench</c> command writing to <paramref name="fixedConsole"/> (tests pass a recording console).</summary>
    /// <param name="fixedConsole">Where the progress bar and tables go; null for the invocation's output.</param>
    internal static Command Create(IAnsiConsole? fixedConsole)
    {
        var quick = new Option<bool>("--quick") { Description = "A small grid that finishes in under a minute on two cores." };
        var json = new Option<FileInfo?>("--json") { Description = "Also write every row, with machine info, date and command line, to this JSON file." };
        var threads = new Option<int>("--threads")
        {
            Description = "Worker threads for the kernels, the baseline and the peak measurement; -1 uses every core.",
            DefaultValueFactory = _ => -1,
        };
        var dtype = new Option<string>("--dtype") { Description = "Storage type: fp32, fp16, bf16 or all.", DefaultValueFactory = _ => "fp32" };
        dtype.AcceptOnlyFromAmong("fp32", "fp16", "bf16", "all");
        var configs = new Option<string[]>("--config")
        {
            Description = "Replace the grid (CPU or GPU) with these shapes: B,H,N,D[,causal][,fwd] (fwd: forward only). Repeatable.",
            AllowMultipleArgumentsPerToken = false,
        };
        var repeats = new Option<int>("--repeats")
        {
            Description = "Timed repeats per measurement after the warm-up; 0 (default) picks 3–15 from the warm-up time.",
            DefaultValueFactory = _ => 0,
        };
        var markdown = new Option<bool>("--markdown") { Description = "Also print the results as a Markdown table (for docs/benchmarks.md)." };
        var device = new Option<string>("--device")
        {
            Description = "cpu (default: the grid against standard attention) or cuda (FlashAttention's GPU grid, forward and backward TFLOP/s).",
            DefaultValueFactory = _ => "cpu",
        };
        device.AcceptOnlyFromAmong("cpu", "cuda");

        var command = new Command("bench", "Benchmark the flash kernels against standard materialised attention: time, GFLOP/s, % of FMA peak, extra memory.")
        {
            quick, json, threads, dtype, configs, repeats, markdown, device,
        };
        command.SetAction(parse =>
        {
            var console = fixedConsole ?? CliConsole.For(parse);
            // Checks and parsing both devices share; each prints its one-line error and says whether to go on.
            bool RepeatsValid()
            {
                if (parse.GetValue(repeats) >= 0)
                    return true;
                console.MarkupLine($"[red]--repeats must be ≥ 0; got {parse.GetValue(repeats)}.[/]");
                return false;
            }
            bool TryGivenConfigs(out List<BenchConfig> given)
            {
                try
                {
                    given = (parse.GetValue(configs) ?? []).Select(BenchConfig.Parse).ToList();
                    return true;
                }
                catch (FormatException e)
                {
                    console.MarkupLine($"[red]{Markup.Escape(e.Message)}[/]");
                    given = [];
                    return false;
                }
            }
            string commandLine = "flashattn " + string.Join(' ', parse.Tokens.Select(token => Quote(token.Value)));
            if (parse.GetValue(device) == "cuda")
            {
                string gpuDtype = parse.GetValue(dtype) switch { "fp16" => "fp16", "bf16" or "fp32" or "all" => "bf16", var other => other! };
                if (parse.GetValue(dtype) is "fp32" or "all" && parse.Tokens.Any(t => t.Value == "--dtype"))
                {
                    console.MarkupLine("[red]--dtype: the GPU grid runs in bf16 or fp16.[/]");
                    return ExitCodes.UsageError;
                }
                if (!RepeatsValid() || !TryGivenConfigs(out var givenShapes))
                    return ExitCodes.UsageError;
                var points = givenShapes.Count > 0 ? givenShapes : null;
                try
                {
                    // A head dim the GPU kernels cannot take is refused here, before the device is touched.
                    foreach (var point in points ?? [])
                        FlashAttention.Cuda.CudaAttention.CheckSupported(point.Shape, null);
                }
                catch (NotSupportedException e)
                {
                    console.MarkupLine($"[red]--config: {Markup.Escape(e.Message)}[/]");
                    return ExitCodes.UsageError;
                }
                int gpuRepeats = parse.GetValue(repeats) is > 0 and var rr ? rr : 15;
                return CudaBench.Run(parse.GetValue(quick), points, gpuDtype, gpuRepeats, parse.GetValue(json)?.FullName, parse.GetValue(markdown), commandLine, console);
            }
            int t = parse.GetValue(threads);
            if (t == 0 || t < -1)
            {
                console.MarkupLine($"[red]--threads must be -1 (every core) or positive; got {t}.[/]");
                return ExitCodes.UsageError;
            }
            if (!RepeatsValid() || !TryGivenConfigs(out var given))
                return ExitCodes.UsageError;
            int r = parse.GetValue(repeats);
            var grid = given.Count > 0 ? given : BenchConfig.Grid(parse.GetValue(quick));
            var dtypes = parse.GetValue(dtype) switch
            {
                "all" => new[] { BenchDtype.Fp32, BenchDtype.Fp16, BenchDtype.Bf16 },
                "fp16" => [BenchDtype.Fp16],
                "bf16" => [BenchDtype.Bf16],
                _ => [BenchDtype.Fp32],
            };
            var settings = new BenchSettings(grid, dtypes, t, r, parse.GetValue(json)?.FullName, parse.GetValue(markdown), commandLine);
            return Run(settings, console);
        });
        return command;
    }

    private static string Quote(string s) => s.Contains(' ') ? $"\"{s}\"" : s;

    /// <summary>Runs the grid, renders the tables, writes the JSON; returns the exit code.</summary>
    /// <param name="settings">What to run.</param>
    /// <param name="console">Where output goes.</param>
    internal static int Run(BenchSettings settings, IAnsiConsole console)
    {
        int threads = settings.Threads < 0 ? Environment.ProcessorCount : settings.Threads;
        var machine = MachineInfo.Describe(threads);
        console.MarkupLine($"[bold]flashattn bench[/] — {Markup.Escape(machine.Cpu)}, {machine.LogicalCores} logical cores, " +
            $"{threads} threads, SIMD {machine.SimdBits}-bit, {Markup.Escape(machine.Runtime)}" +
            (machine.LoadBefore is { } load ? $", load average {load}" : ""));
        double peak = MachinePeak.MeasureGflops(threads);
        machine = machine with { PeakGflops = peak };
        console.MarkupLine($"Measured FMA peak ({threads} threads, {machine.SimdBits}-bit FMA): [bold]{peak:F1} GFLOP/s[/]");

        var rows = new List<BenchRow>();
        var clock = Stopwatch.StartNew();
        foreach (var dtype in settings.Dtypes)
            BenchRunner.WarmUp(dtype, threads);
        // Auto-refresh off: Spectre's refresh thread would allocate (polluting the allocation counter) and steal a core
        // from the timed kernels; the bar is redrawn by hand between measurements instead.
        console.Progress()
            .AutoRefresh(false)
            .AutoClear(true)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
            .Start(ctx =>
            {
                var task = ctx.AddTask("bench", maxValue: settings.Configs.Count * settings.Dtypes.Length * 3);
                foreach (var config in settings.Configs)
                {
                    foreach (var dtype in settings.Dtypes)
                    {
                        void Step(string what)
                        {
                            task.Description = Markup.Escape($"{config} {dtype.Name()}: {what}");
                            ctx.Refresh();
                        }
                        rows.Add(BenchRunner.Run(config, dtype, threads, settings.Repeats, peak, Step, () => { task.Increment(1); ctx.Refresh(); }));
                    }
                }
            });
        clock.Stop();

        // The peak is a property of the machine: measured again at the end, the higher of the two is the better estimate
        // when other processes shared the cores during one of them.
        double peakAfter = MachinePeak.MeasureGflops(threads);
        if (peakAfter > peak)
        {
            console.MarkupLine($"FMA peak measured again after the grid: [bold]{peakAfter:F1} GFLOP/s[/] (the higher value is used).");
            peak = peakAfter;
            rows = rows.Select(r => r with { PeakGflops = peakAfter }).ToList();
        }
        machine = machine with { PeakGflops = peak, LoadAfter = MachineInfo.LoadAverage() };
        RenderTable(console, rows, peak);
        console.MarkupLine($"[grey]FLOPs: forward 4·B·H·N²·D (halved when causal), backward 2.5× forward. Memory: bytes the call allocates " +
            $"beyond the caller's inputs and outputs. Standard = S=[[B,H,N,N]] fp32 materialised (TileGemm, all cores); skipped above " +
            $"{Bytes(StandardLimitBytes)}. Total {clock.Elapsed.TotalSeconds:F0} s" +
            (machine.LoadAfter is { } after ? $", load average after {after}" : "") + ".[/]");
        if (settings.Markdown)
        {
            console.WriteLine();
            console.Profile.Out.Writer.Write(MarkdownTable(rows));
        }
        if (settings.JsonPath is { } path)
        {
            WriteJson(path, settings, machine, rows);
            console.MarkupLine($"Wrote [bold]{Markup.Escape(path)}[/].");
        }
        return ExitCodes.Ok;
    }

    private static void RenderTable(IAnsiConsole console, List<BenchRow> rows, double peak)
    {
        var table = new Table().Border(TableBorder.Rounded)
            .Title($"flash vs standard attention (FMA peak {peak:F1} GFLOP/s)")
            .AddColumn("config").AddColumn("dtype");
        foreach (var name in new[] { "fwd ms", "fwd GFLOP/s", "% peak", "bwd ms", "bwd GFLOP/s", "flash mem fwd", "flash mem bwd", "std ms", "std mem", "speed-up", "mem saving" })
            table.AddColumn(new TableColumn(name).RightAligned());
        foreach (var r in rows)
            table.AddRow(Cells(r).Select(Markup.Escape).ToArray());
        console.Write(table);
    }

    /// <summary>The cells of one row, shared by the console table and the Markdown table.</summary>
    private static string[] Cells(BenchRow r) =>
    [
        r.Config.ToString(),
        r.Dtype.Name(),
        Ms(r.ForwardMs),
        r.ForwardGflops.ToString("F1", CultureInfo.InvariantCulture),
        (100 * r.ForwardGflops / r.PeakGflops).ToString("F0", CultureInfo.InvariantCulture) + " %",
        r.BackwardMs is double b ? Ms(b) : "–",
        r.BackwardGflops is double g ? g.ToString("F1", CultureInfo.InvariantCulture) : "–",
        Bytes(r.ForwardBytes),
        r.BackwardBytes is long bb ? Bytes(bb) : "–",
        r.StandardMs is double s ? Ms(s) : "not run",
        r.StandardMs is null ? $"{Bytes(r.StandardBytes)} (needed)" : Bytes(r.StandardBytes),
        r.StandardMs is double s2 ? (s2 / r.ForwardMs).ToString("F2", CultureInfo.InvariantCulture) + "×" : "–",
        (r.StandardBytes / (double)Math.Max(r.ForwardBytes, 1)).ToString("F0", CultureInfo.InvariantCulture) + "×",
    ];

    internal static string MarkdownTable(List<BenchRow> rows)
    {
        var sb = new StringBuilder();
        sb.AppendLine("| config | dtype | fwd ms | fwd GFLOP/s | % peak | bwd ms | bwd GFLOP/s | flash mem fwd | flash mem bwd | std ms | std mem | speed-up | mem saving |");
        sb.AppendLine("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        foreach (var r in rows)
            sb.Append("| ").AppendJoin(" | ", Cells(r)).AppendLine(" |");
        return sb.ToString();
    }

    private static string Ms(double ms) =>
        ms >= 100 ? ms.ToString("F0", CultureInfo.InvariantCulture) : ms >= 10 ? ms.ToString("F1", CultureInfo.InvariantCulture) : ms.ToString("F2", CultureInfo.InvariantCulture);

    internal static string Bytes(long bytes) => bytes switch
    {
        >= 1L << 30 => (bytes / (double)(1L << 30)).ToString("F1", CultureInfo.InvariantCulture) + " GiB",
        >= 1L << 20 => (bytes / (double)(1L << 20)).ToString("F1", CultureInfo.InvariantCulture) + " MiB",
        >= 1L << 10 => (bytes / (double)(1L << 10)).ToString("F0", CultureInfo.InvariantCulture) + " KiB",
        _ => bytes.ToString(CultureInfo.InvariantCulture) + " B",
    };

    private static void WriteJson(string path, BenchSettings settings, MachineInfo machine, List<BenchRow> rows)
    {
        using var stream = File.Create(path);
        using var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true });
        w.WriteStartObject();
        w.WriteString("tool", "flashattn bench");
        w.WriteString("command", settings.CommandLine);
        w.WriteString("date", DateTime.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture));
        w.WriteString("library", typeof(Attention).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown");
        w.WriteStartObject("machine");
        w.WriteString("cpu", machine.Cpu);
        w.WriteNumber("logicalCores", machine.LogicalCores);
        w.WriteNumber("threads", machine.Threads);
        w.WriteNumber("simdBits", machine.SimdBits);
        w.WriteNumber("fmaPeakGflops", Math.Round(machine.PeakGflops, 2));
        w.WriteString("os", machine.Os);
        w.WriteString("runtime", machine.Runtime);
        // Timings from a shared machine mean little without knowing what else ran: 1/5/15-minute load averages.
        if (machine.LoadBefore is { } before)
            w.WriteString("loadAverageBefore", before);
        if (machine.LoadAfter is { } after)
            w.WriteString("loadAverageAfter", after);
        w.WriteEndObject();
        w.WriteStartObject("flops");
        w.WriteString("forward", "4*B*H*Nq*Nk*D, halved when causal");
        w.WriteString("backward", "2.5 * forward");
        w.WriteEndObject();
        w.WriteStartArray("rows");
        foreach (var r in rows)
        {
            w.WriteStartObject();
            w.WriteString("config", r.Config.ToString());
            w.WriteNumber("batch", r.Config.Batch);
            w.WriteNumber("heads", r.Config.Heads);
            w.WriteNumber("seqlenQ", r.Config.SeqLen);
            w.WriteNumber("seqlenK", r.Config.SeqLen);
            w.WriteNumber("headDim", r.Config.HeadDim);
            w.WriteBoolean("causal", r.Config.Causal);
            w.WriteString("dtype", r.Dtype.Name());
            w.WriteNumber("repeats", r.Repeats);
            w.WriteNumber("forwardMs", Math.Round(r.ForwardMs, 4));
            w.WriteNumber("forwardMinMs", Math.Round(r.ForwardSpread.Min, 4));
            w.WriteNumber("forwardMaxMs", Math.Round(r.ForwardSpread.Max, 4));
            w.WriteNumber("forwardGflops", Math.Round(r.ForwardGflops, 3));
            w.WriteNumber("forwardPeakFraction", Math.Round(r.ForwardGflops / r.PeakGflops, 4));
            WriteOptional(w, "backwardMs", r.BackwardMs);
            WriteOptional(w, "backwardMinMs", r.BackwardSpread?.Min);
            WriteOptional(w, "backwardMaxMs", r.BackwardSpread?.Max);
            WriteOptional(w, "backwardGflops", r.BackwardGflops);
            w.WriteNumber("flashForwardExtraBytes", r.ForwardBytes);
            if (r.BackwardBytes is long bb)
                w.WriteNumber("flashBackwardExtraBytes", bb);
            else
                w.WriteNull("flashBackwardExtraBytes");
            w.WriteBoolean("standardRun", r.StandardMs is not null);
            WriteOptional(w, "standardMs", r.StandardMs);
            WriteOptional(w, "standardMinMs", r.StandardSpread?.Min);
            WriteOptional(w, "standardMaxMs", r.StandardSpread?.Max);
            w.WriteNumber("standardBytes", r.StandardBytes);
            WriteOptional(w, "speedup", r.StandardMs is double s ? s / r.ForwardMs : null);
            w.WriteNumber("memorySaving", Math.Round(r.StandardBytes / (double)Math.Max(r.ForwardBytes, 1), 2));
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
    }

    private static void WriteOptional(Utf8JsonWriter w, string name, double? value)
    {
        if (value is double v)
            w.WriteNumber(name, Math.Round(v, 4));
        else
            w.WriteNull(name);
    }
}

/// <summary>What a bench run was asked for.</summary>
internal sealed record BenchSettings(List<BenchConfig> Configs, BenchDtype[] Dtypes, int Threads, int Repeats, string? JsonPath, bool Markdown, string CommandLine);

/// <summary>Storage types of the benchmark.</summary>
internal enum BenchDtype
{
    Fp32,
    Fp16,
    Bf16,
}

internal static class BenchDtypes
{
    public static string Name(this BenchDtype d) => d switch
    {
        BenchDtype.Fp32 => "fp32",
        BenchDtype.Fp16 => "fp16",
        _ => "bf16",
    };
}

/// <summary>One shape of the grid (self-attention: seqlen_q = seqlen_k = N).</summary>
internal sealed record BenchConfig(int Batch, int Heads, int SeqLen, int HeadDim, bool Causal, bool ForwardOnly)
{
    public AttentionShape Shape => new(Batch, SeqLen, SeqLen, Heads, HeadDim);

    /// <summary>4·B·H·N²·D, halved when causal.</summary>
    public double ForwardFlops => 4.0 * Batch * Heads * SeqLen * (double)SeqLen * HeadDim * (Causal ? 0.5 : 1.0);

    /// <summary>2.5 × forward.</summary>
    public double BackwardFlops => 2.5 * ForwardFlops;

    public override string ToString() =>
        $"B={Batch} H={Heads} N={SeqLen} D={HeadDim}{(Causal ? " causal" : "")}";

    /// <summary>
    /// The default grid: the PyTorch peer point (B=1, H=16, N=2048, D=64, plain and causal), D=128, a causal sweep of N
    /// to show time growing as N² while extra memory stays O(N), and N=16384 forward-only (standard would need 17 GB).
    /// </summary>
    public static List<BenchConfig> Grid(bool quick) => quick
        ?
        [
            new(1, 4, 1024, 64, false, false),
            new(1, 4, 1024, 64, true, false),
            new(1, 4, 1024, 128, false, false),
            new(1, 2, 8192, 64, true, true),
        ]
        :
        [
            new(1, 16, 2048, 64, false, false),
            new(1, 16, 2048, 64, true, false),
            new(1, 16, 2048, 128, false, false),
            new(1, 16, 2048, 128, true, false),
            new(4, 16, 512, 64, false, false),
            new(1, 16, 1024, 64, true, true),
            new(1, 16, 4096, 64, true, true),
            new(1, 16, 8192, 64, true, true),
            new(1, 16, 16384, 64, true, true),
            new(1, 16, 16384, 64, false, true),
        ];

    /// <summary>Parses B,H,N,D[,causal][,fwd].</summary>
    public static BenchConfig Parse(string text)
    {
        var parts = text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length < 4)
            throw new FormatException($"--config '{text}': expected B,H,N,D[,causal][,fwd].");
        var numbers = new int[4];
        for (int i = 0; i < 4; i++)
            if (!int.TryParse(parts[i], NumberStyles.Integer, CultureInfo.InvariantCulture, out numbers[i]) || numbers[i] < 1)
                throw new FormatException($"--config '{text}': '{parts[i]}' is not a positive integer (expected B,H,N,D[,causal][,fwd]).");
        if (numbers[3] > 256)
            throw new FormatException($"--config '{text}': head dim {numbers[3]} is above 256.");
        bool causal = false, forwardOnly = false;
        foreach (var flag in parts.Skip(4))
        {
            if (flag.Equals("causal", StringComparison.OrdinalIgnoreCase))
                causal = true;
            else if (flag.Equals("fwd", StringComparison.OrdinalIgnoreCase))
                forwardOnly = true;
            else
                throw new FormatException($"--config '{text}': unknown flag '{flag}' (expected causal or fwd).");
        }
        return new BenchConfig(numbers[0], numbers[1], numbers[2], numbers[3], causal, forwardOnly);
    }
}

/// <summary>One measured row.</summary>
internal sealed record BenchRow(BenchConfig Config, BenchDtype Dtype, double PeakGflops, int Repeats,
    double ForwardMs, double ForwardGflops, long ForwardBytes,
    double? BackwardMs, double? BackwardGflops, long? BackwardBytes,
    double? StandardMs, long StandardBytes)
{
    /// <summary>Fastest and slowest timed forward call: a wide spread flags a disturbed or unstable measurement.</summary>
    public (double Min, double Max) ForwardSpread { get; init; }

    /// <summary>Fastest and slowest timed backward call, when run.</summary>
    public (double Min, double Max)? BackwardSpread { get; init; }

    /// <summary>Fastest and slowest timed standard call, when run.</summary>
    public (double Min, double Max)? StandardSpread { get; init; }
}

/// <summary>One measurement: median, fastest and slowest of the timed calls, how many, and the first call's allocation.</summary>
internal readonly record struct Timing(double Median, double Min, double Max, int Repeats, long Bytes);

/// <summary>Machine description for the report.</summary>
internal sealed record MachineInfo(string Cpu, int LogicalCores, int Threads, int SimdBits, string Os, string Runtime, double PeakGflops)
{
    /// <summary>Load averages (1, 5, 15 min) when the run started; null where the OS does not say.</summary>
    public string? LoadBefore { get; init; }

    /// <summary>Load averages when the run ended.</summary>
    public string? LoadAfter { get; init; }

    public static MachineInfo Describe(int threads) =>
        new(CpuModel(), Environment.ProcessorCount, threads, MachinePeak.VectorBits, RuntimeInformation.OSDescription,
            RuntimeInformation.FrameworkDescription, 0)
        { LoadBefore = LoadAverage() };

    /// <summary>"1m 5m 15m" from /proc/loadavg on Linux; null elsewhere.</summary>
    public static string? LoadAverage()
    {
        try
        {
            if (OperatingSystem.IsLinux() && File.Exists("/proc/loadavg"))
                return string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3));
        }
        catch (IOException)
        {
            // not available: report nothing
        }
        return null;
    }

    private static string CpuModel()
    {
        try
        {
            if (OperatingSystem.IsLinux() && File.Exists("/proc/cpuinfo"))
                foreach (var line in File.ReadLines("/proc/cpuinfo"))
                    if (line.StartsWith("model name", StringComparison.Ordinal))
                        return line[(line.IndexOf(':') + 1)..].Trim();
        }
        catch (IOException)
        {
            // fall through to the generic description
        }
        return Environment.GetEnvironmentVariable("PROCESSOR_IDENTIFIER") ?? RuntimeInformation.ProcessArchitecture.ToString();
    }
}

/// <summary>Measures one config in one dtype.</summary>
internal static class BenchRunner
{
    /// <summary>Target time of the timed repeats of one measurement (auto repeats).</summary>
    private const double TargetMs = 2000;

    /// <summary>Untimed calls continue until this much time has passed (at least one call), so tiered JIT has settled.</summary>
    private const double WarmUpMs = 300;

    /// <summary>
    /// Runs every kernel instantiation the grid uses (plain and causal, forward, backward, standard) on a small shape
    /// many times, so the tiered JIT has promoted them to optimised code before the first measurement.
    /// </summary>
    /// <param name="dtype">The storage type to warm.</param>
    /// <param name="threads">Worker threads.</param>
    public static void WarmUp(BenchDtype dtype, int threads)
    {
        var config = new BenchConfig(1, 2, 256, 64, false, false);
        for (int i = 0; i < 20; i++)
        {
            Run(config with { Causal = i % 2 == 1 }, dtype, threads, repeats: 1, peak: 1, _ => { }, () => { }, warmUpMs: 0);
        }
    }

    /// <summary>Measures one config: flash forward, flash backward (unless forward-only), standard attention (unless too big).</summary>
    /// <param name="config">The shape.</param>
    /// <param name="dtype">The storage type.</param>
    /// <param name="threads">Worker threads.</param>
    /// <param name="repeats">Timed repeats; 0 for automatic.</param>
    /// <param name="peak">The machine's FMA peak, for the row.</param>
    /// <param name="step">Told which phase starts.</param>
    /// <param name="done">Told when a phase ends.</param>
    /// <param name="warmUpMs">Untimed warm-up time per measurement.</param>
    public static BenchRow Run(BenchConfig config, BenchDtype dtype, int threads, int repeats, double peak, Action<string> step, Action done,
        double warmUpMs = WarmUpMs) => dtype switch
    {
        BenchDtype.Fp32 => Run<float>(config, dtype, threads, repeats, peak, step, done, warmUpMs),
        BenchDtype.Fp16 => Run<Half>(config, dtype, threads, repeats, peak, step, done, warmUpMs),
        _ => Run<BFloat16>(config, dtype, threads, repeats, peak, step, done, warmUpMs),
    };

    private static BenchRow Run<T>(BenchConfig config, BenchDtype dtype, int threads, int repeats, double peak, Action<string> step, Action done,
        double warmUpMs)
        where T : unmanaged
    {
        var shape = config.Shape;
        var options = new AttentionOptions { Causal = config.Causal, MaxDegreeOfParallelism = threads };
        var rng = new Random(1234);
        T[] q = Random<T>(rng, shape.QueryLength), k = Random<T>(rng, shape.KeyValueLength), v = Random<T>(rng, shape.KeyValueLength);
        var o = new T[shape.QueryLength];
        var lse = new float[shape.LseLength];

        step("forward");
        var fwd = Measure(repeats, warmUpMs, () => Attention.Forward<T>(shape, q, k, v, o, lse, options));
        done();

        Timing? bwd = null;
        step("backward");
        if (!config.ForwardOnly)
        {
            T[] dOut = Random<T>(rng, shape.QueryLength);
            var dq = new T[shape.QueryLength];
            var dk = new T[shape.KeyValueLength];
            var dv = new T[shape.KeyValueLength];
            bwd = Measure(repeats, warmUpMs, () => Attention.Backward<T>(shape, q, k, v, o, lse, dOut, dq, dk, dv, options));
        }
        done();

        step("standard");
        Timing? std = null;
        long stdBytes = StandardAttention.ScoreBytes(shape);
        if (stdBytes <= BenchCommand.StandardLimitBytes)
        {
            var so = new T[shape.QueryLength];
            long nativeBytes = 0;
            std = Measure(repeats, warmUpMs, () => nativeBytes = StandardAttention.Forward<T>(shape, q, k, v, so, config.Causal, threads));
            stdBytes = std.Value.Bytes + nativeBytes; // managed staging buffers (counted by the GC) plus S in native memory
        }
        done();

        return new BenchRow(config, dtype, peak, fwd.Repeats, fwd.Median, config.ForwardFlops / (fwd.Median * 1e6), fwd.Bytes,
            bwd?.Median, bwd is { } b ? config.BackwardFlops / (b.Median * 1e6) : null, bwd?.Bytes, std?.Median, stdBytes)
        {
            ForwardSpread = (fwd.Min, fwd.Max),
            BackwardSpread = bwd is { } bs ? (bs.Min, bs.Max) : null,
            StandardSpread = std is { } ss ? (ss.Min, ss.Max) : null,
        };
    }

    /// <summary>
    /// Warm-up calls (at least one, until <paramref name="warmUpMs"/> has passed); the first one's allocation is
    /// measured (GC.GetTotalAllocatedBytes(true) counts every thread's, so the parallel workers' scratch is included).
    /// Then timed repeats (automatic: enough for about 2 s, 3 to 15; none when the first call alone took 2 s, which is
    /// then the one sample); returns the median, fastest and slowest. Garbage is collected once before the timed
    /// repeats, which then run back to back as in a training loop.
    /// </summary>
    private static Timing Measure(int repeats, double warmUpMs, Action call)
    {
        Collect();
        long before = GC.GetTotalAllocatedBytes(precise: true);
        var warmClock = Stopwatch.StartNew();
        call();
        double warmMs = warmClock.Elapsed.TotalMilliseconds;
        long bytes = GC.GetTotalAllocatedBytes(precise: true) - before;
        // A call this long is its own sample: the JIT was settled by WarmUp, and a second 20–40 s call would only double
        // the time other processes on a shared machine have to disturb the run.
        if (repeats == 0 && warmMs >= TargetMs)
            return new Timing(warmMs, warmMs, warmMs, 1, bytes);
        // More untimed calls until the warm-up time is spent; the fastest of them sizes the timed repeats.
        for (int i = 0; i < 50 && warmClock.Elapsed.TotalMilliseconds < warmUpMs; i++)
        {
            Collect();
            long s = Stopwatch.GetTimestamp();
            call();
            warmMs = Math.Min(warmMs, Stopwatch.GetElapsedTime(s).TotalMilliseconds);
        }

        int n = repeats > 0 ? repeats
            : warmMs >= TargetMs ? 1
            : Math.Clamp((int)Math.Ceiling(TargetMs / warmMs), 3, 15);
        var times = new double[n];
        // No forced collection between timed calls: a training loop calls back to back, and the backward pass keeps
        // its O(N) workspace for the next call behind a weak reference that a forced full GC would drop every time.
        // (The extra-memory figure above comes from the first call, right after a collection: the cold cost.)
        Collect();
        for (int i = 0; i < n; i++)
        {
            long start = Stopwatch.GetTimestamp();
            call();
            times[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        }
        Array.Sort(times);
        double median = n % 2 == 1 ? times[n / 2] : 0.5 * (times[n / 2 - 1] + times[n / 2]);
        return new Timing(median, times[0], times[^1], n, bytes);
    }

    private static void Collect()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
    }

    private static T[] Random<T>(Random rng, long length) where T : unmanaged
    {
        var x = new float[length];
        for (long i = 0; i < length; i++)
            x[i] = (float)(rng.NextDouble() * 2 - 1) * 1.7f; // unit variance, like randn
        var result = new T[length];
        Elements.FromFloat<T>(x, result);
        return result;
    }
}
