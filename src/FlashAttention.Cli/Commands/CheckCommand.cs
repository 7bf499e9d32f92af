using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using FlashAttention.Cpu;
using Spectre.Console;

namespace FlashAttention.Cli.Commands;

/// <summary>
/// <c>flashattn check</c>: a self-check of this build on this machine. Every run draws fresh random inputs (the seed is
/// printed so a failure can be replayed), runs the kernels over the option matrix in float32, float16 and bfloat16,
/// and compares output, LSE, returned softmax and the three gradients with the double-precision
/// <see cref="ReferenceAttention"/> by ‖x − ref‖ / ‖ref‖.
/// </summary>
internal static class CheckCommand
{
    /// <summary>Builds the <c>check</c> command; it writes to the invocation's output (the console unless redirected in-process).</summary>
    public static Command Create() => Create(null);

    /// <summary>Builds the <c>check</c> command writing to <paramref name="fixedConsole"/> (tests pass a recording console).</summary>
    /// <param name="fixedConsole">Where the table and summary go; null for the invocation's output.</param>
    internal static Command Create(IAnsiConsole? fixedConsole)
    {
        var threads = new Option<int>("--threads")
        {
            Description = "Worker threads for the kernels and the reference; -1 uses every core.",
            DefaultValueFactory = _ => -1,
        };
        var seed = new Option<int?>("--seed")
        {
            Description = "Seed of the random inputs; by default drawn from the clock (and printed).",
        };
        var quick = new Option<bool>("--quick")
        {
            Description = "Smaller sizes (still every option, head dim and dtype): about a quarter of the time.",
        };
        var device = new Option<string>("--device")
        {
            Description = "Backend to check: cpu or cuda.",
            DefaultValueFactory = _ => "cpu",
        };
        device.AcceptOnlyFromAmong("cpu", "cuda");

        var command = new Command("check", "Self-check every option, head dim and dtype against the double-precision reference on fresh random inputs.")
        {
            threads, seed, quick, device,
        };
        command.SetAction(parse =>
        {
            var console = fixedConsole ?? CliConsole.For(parse);
            int t = parse.GetValue(threads);
            if (t == 0 || t < -1)
            {
                console.MarkupLine($"[red]--threads must be -1 (every core) or positive; got {t}.[/]");
                return ExitCodes.UsageError;
            }
            int s = parse.GetValue(seed) ?? (int)(DateTime.UtcNow.Ticks & int.MaxValue);
            var settings = new CheckSettings(t, s, parse.GetValue(quick));
            if (parse.GetValue(device) == "cuda")
            {
                if (!FlashAttention.Cuda.CudaAttention.IsAvailable)
                {
                    console.WriteLine($"--device cuda: the CUDA backend is not available: {FlashAttention.Cuda.CudaAttention.UnavailableReason}; use --device cpu.");
                    return ExitCodes.UsageError;
                }
                return CudaCheck.Run(settings, console);
            }
            return Run(settings, console);
        });
        return command;
    }

    /// <summary>Runs the whole check and renders the table; returns the process exit code (0 = every case passed).</summary>
    /// <param name="settings">Threads, seed, quick.</param>
    /// <param name="console">Where output goes.</param>
    internal static int Run(CheckSettings settings, IAnsiConsole console)
    {
        var cases = CheckCases.Build(settings.Quick);
        console.MarkupLine($"[bold]flashattn check[/] — seed [yellow]{settings.Seed}[/] (replay with --seed {settings.Seed}), " +
            $"threads {(settings.Threads < 0 ? Environment.ProcessorCount : settings.Threads)}, {(settings.Quick ? "quick" : "full")} matrix, " +
            $"{cases.Count} cases × 3 dtypes, SIMD {MachinePeak.VectorBits}-bit");

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
                        results.Add(CaseRunner.Run(c, data, dtype, settings.Threads));
                        task.Increment(1);
                    }
                }
            });
        clock.Stop();
        return Report(console, results, clock.Elapsed, settings.Seed);
    }

    /// <summary>Renders the result table, the failures and the worst errors; returns the exit code.</summary>
    internal static int Report(IAnsiConsole console, List<CheckResult> results, TimeSpan elapsed, int seed)
    {
        Render(console, results);
        int failed = results.Count(r => !r.Passed);
        // The table truncates nothing but a long exception message reads better on its own line.
        foreach (var r in results.Where(r => !r.Passed))
        {
            var over = r.Errors.Where(e => !(e.Value <= r.Bar(r.Dtype, e.Key)))
                .Select(e => $"{e.Key.Label()} {FormatError(e.Value)} > {FormatError(r.Bar(r.Dtype, e.Key))}");
            string detail = string.Join("; ", over.Append(r.Note ?? "").Where(x => x.Length > 0));
            console.MarkupLine($"[red]FAIL[/] {Markup.Escape(r.Case)} {r.Dtype.Name()}: {Markup.Escape(detail)}");
        }
        console.WriteLine();
        RenderWorst(console, results);
        string verdict = failed == 0 ? "[green]PASS[/]" : $"[red]FAIL[/] ({failed} failed)";
        int refused = results.Count(r => r.Refused is not null);
        console.MarkupLine($"{verdict}: {results.Count - failed - refused} of {results.Count - refused} case × dtype checks passed" +
            (refused > 0 ? $" ({refused} refused by design, see above)" : "") + " in " +
            $"{elapsed.TotalSeconds.ToString("F1", CultureInfo.InvariantCulture)} s (seed {seed}).");
        return failed == 0 ? ExitCodes.Ok : ExitCodes.Failure;
    }

    private static void Render(IAnsiConsole console, List<CheckResult> results)
    {
        var table = new Table().Border(TableBorder.Rounded)
            .Title("relative error ‖x − ref‖ / ‖ref‖ against the double-precision reference")
            .AddColumn("case").AddColumn("dtype");
        foreach (var tensor in CheckTensors.All)
            table.AddColumn(new TableColumn(tensor.Label()).RightAligned());
        bool withCpu = results.Any(r => r.CpuWorst is not null);
        if (withCpu)
            table.AddColumn(new TableColumn("cpu worst").RightAligned());
        table.AddColumn("result");
        foreach (var r in results)
        {
            var row = new List<string> { Markup.Escape(r.Case), r.Dtype.Name() };
            foreach (var tensor in CheckTensors.All)
            {
                if (!r.Errors.TryGetValue(tensor, out double e))
                {
                    row.Add("[grey]–[/]");
                    continue;
                }
                bool ok = e <= r.Bar(r.Dtype, tensor);
                row.Add(ok ? FormatError(e) : $"[red]{FormatError(e)}[/]");
            }
            if (withCpu)
                row.Add(r.CpuWorst is { } cpu ? FormatError(cpu) : "[grey]–[/]");
            row.Add(r.Refused is not null ? $"[yellow]refused[/] {Markup.Escape(r.Refused)}"
                : r.Passed ? "[green]pass[/]" : $"[red]FAIL[/]{(r.Note is null ? "" : " " + Markup.Escape(r.Note))}");
            table.AddRow(row.ToArray());
        }
        console.Write(table);
        console.MarkupLine("[grey]P = returned softmax (|x| vs the reference probabilities; its sign bit, the dropout mask, must match exactly). " +
            "Thresholds: " + Markup.Escape(Thresholds.Describe()) + "[/]");
    }

    private static void RenderWorst(IAnsiConsole console, List<CheckResult> results)
    {
        var table = new Table().Border(TableBorder.Simple).Title("worst error per dtype and tensor: the row nearest its bar (that bar)").AddColumn("dtype");
        foreach (var tensor in CheckTensors.All)
            table.AddColumn(new TableColumn(tensor.Label()).RightAligned());
        foreach (var dtype in CheckDtypes.All)
        {
            var row = new List<string> { dtype.Name() };
            foreach (var tensor in CheckTensors.All)
            {
                // The row closest to its own bar (rows of one dtype can have different bars, e.g. lse where the GPU rounds
                // the inputs itself), shown with that bar; NaN counts as the worst.
                var rows = results.Where(r => r.Dtype == dtype && r.Errors.ContainsKey(tensor))
                    .Select(r => (Error: r.Errors[tensor], Bar: r.Bar(dtype, tensor))).ToList();
                if (rows.Count == 0)
                {
                    row.Add("[grey]–[/]");
                    continue;
                }
                var (worst, threshold) = rows.MaxBy(x => double.IsNaN(x.Error) ? double.PositiveInfinity : x.Error / x.Bar);
                string text = $"{FormatError(worst)} ({FormatError(threshold)})";
                row.Add(worst <= threshold ? text : $"[red]{text}[/]");
            }
            table.AddRow(row.ToArray());
        }
        console.Write(table);
    }

    internal static string FormatError(double e) =>
        double.IsNaN(e) ? "NaN" : double.IsPositiveInfinity(e) ? "∞" : e == 0 ? "0" : e.ToString("0.0e+0", CultureInfo.InvariantCulture);
}

/// <summary>The Spectre console that <c>check</c> and <c>bench</c> write to.</summary>
internal static class CliConsole
{
    /// <summary>Width used when the output is not a terminal, so the wide tables do not wrap in logs and files.</summary>
    private const int RedirectedWidth = 200;

    /// <summary>
    /// The console for an invocation: the terminal (colours, live progress bar) when the invocation writes to the process
    /// console and that is a terminal; otherwise a plain, uncoloured console over the invocation's writer.
    /// </summary>
    /// <param name="parse">The parse result whose invocation configuration names the output.</param>
    public static IAnsiConsole For(ParseResult parse)
    {
        var writer = parse.InvocationConfiguration.Output;
        bool toConsole = ReferenceEquals(writer, Console.Out);
        if (toConsole && !Console.IsOutputRedirected)
            return AnsiConsole.Console;
        return Plain(writer);
    }

    /// <summary>An uncoloured, non-interactive console over <paramref name="writer"/>, 200 columns wide.</summary>
    /// <param name="writer">Where text goes.</param>
    public static IAnsiConsole Plain(TextWriter writer)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(writer),
            Ansi = AnsiSupport.No,
            ColorSystem = ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.No,
        });
        console.Profile.Width = RedirectedWidth;
        return console;
    }
}

/// <summary>What a check run was asked for.</summary>
/// <param name="Threads">Kernel and reference threads; -1 for every core.</param>
/// <param name="Seed">Seed of the random inputs.</param>
/// <param name="Quick">Smaller sizes.</param>
internal sealed record CheckSettings(int Threads, int Seed, bool Quick);

/// <summary>The storage types a check covers.</summary>
internal enum CheckDtype
{
    Float32,
    Float16,
    BFloat16,
}

/// <summary>The tensors a case compares.</summary>
internal enum CheckTensor
{
    Output,
    Lse,
    Softmax,
    DQ,
    DK,
    DV,
}

internal static class CheckDtypes
{
    public static readonly CheckDtype[] All = [CheckDtype.Float32, CheckDtype.Float16, CheckDtype.BFloat16];

    public static string Name(this CheckDtype dtype) => dtype switch
    {
        CheckDtype.Float32 => "fp32",
        CheckDtype.Float16 => "fp16",
        _ => "bf16",
    };
}

internal static class CheckTensors
{
    public static readonly CheckTensor[] All = [CheckTensor.Output, CheckTensor.Lse, CheckTensor.Softmax, CheckTensor.DQ, CheckTensor.DK, CheckTensor.DV];

    public static string Label(this CheckTensor tensor) => tensor switch
    {
        CheckTensor.Output => "out",
        CheckTensor.Lse => "lse",
        CheckTensor.Softmax => "P",
        CheckTensor.DQ => "dq",
        CheckTensor.DK => "dk",
        CheckTensor.DV => "dv",
        _ => tensor.ToString(),
    };
}

/// <summary>
/// Pass thresholds on ‖x − ref‖ / ‖ref‖, the reference being computed in double on the very same (rounded) inputs,
/// so only the kernel's own error is measured.
/// <list type="bullet">
/// <item>float32 storage: 1e-5 for every tensor (the design's bar; a float32-accumulating kernel lands near 1e-7–1e-6).</item>
/// <item>LSE and the returned softmax are float32 whatever the storage type, and computed from inputs that widen to
/// float32 exactly, so they keep the float32 bar in every dtype: a kernel that rounded scores to 16 bits would fail here.</item>
/// <item>float16 / bfloat16 outputs and gradients are rounded once to the storage type; that rounding alone costs an rms
/// relative error of about 2–4e-4 (fp16, 11-bit significand) and 2–3e-3 (bf16, 8-bit). A float32-accumulating kernel
/// (PyTorch's) measures about 1e-3 / 8e-3 on such tensors (the design's figure, which includes inputs that are themselves
/// rounded intermediates); the bar is twice that: 2e-3 (fp16) and 1.6e-2 (bf16), i.e. 5–8× the rounding floor.</item>
/// </list>
/// </summary>
internal static class Thresholds
{
    public const double Float32 = 1e-5;
    public const double Float16 = 2e-3;
    public const double BFloat16 = 1.6e-2;

    public static double For(CheckDtype dtype, CheckTensor tensor) =>
        tensor is CheckTensor.Lse or CheckTensor.Softmax ? Float32
        : dtype switch
        {
            CheckDtype.Float32 => Float32,
            CheckDtype.Float16 => Float16,
            _ => BFloat16,
        };

    public static string Describe() =>
        $"fp32 {CheckCommand.FormatError(Float32)}; fp16 {CheckCommand.FormatError(Float16)} and bf16 {CheckCommand.FormatError(BFloat16)} " +
        $"for out/dq/dk/dv (twice a float32-accumulating kernel's error after rounding to 16 bits); lse and P are float32 in every dtype: {CheckCommand.FormatError(Float32)}.";
}

/// <summary>One row of the check: errors per tensor, or the exception that stopped it.</summary>
internal sealed class CheckResult(string name, CheckDtype dtype)
{
    public string Case { get; } = name;
    public CheckDtype Dtype { get; } = dtype;
    public Dictionary<CheckTensor, double> Errors { get; } = [];
    /// <summary>Why it failed beyond the numbers (exception, sign bits).</summary>
    public string? Note { get; set; }
    public bool Failed { get; set; }
    /// <summary>The pass bar of each tensor (the CPU's by default).</summary>
    public Func<CheckDtype, CheckTensor, double> Bar { get; init; } = Thresholds.For;
    /// <summary>The CPU backend's worst error on the same inputs, when the row is another backend's.</summary>
    public double? CpuWorst { get; set; }
    /// <summary>Set when the backend refuses the case by design (the message it gave); such a row is neither a pass nor a failure.</summary>
    public string? Refused { get; set; }

    public bool Passed => Refused is not null || (!Failed && Errors.All(e => e.Value <= Bar(Dtype, e.Key)));
}

/// <summary>How a case calls the library.</summary>
internal enum CaseKind
{
    Dense,
    DenseUserMods,
    Varlen,
}

/// <summary>One configuration of the option matrix.</summary>
internal sealed class CheckCase
{
    public required string Name { get; init; }
    public CaseKind Kind { get; init; } = CaseKind.Dense;
    public AttentionShape Shape { get; init; }
    public int[] CuSeqlensQ { get; init; } = [];
    public int[] CuSeqlensK { get; init; } = [];
    public int Heads { get; init; }
    public int KvHeads { get; init; }
    public int HeadDim { get; init; }

    /// <summary>The head dim, whichever layout the case uses.</summary>
    public int D => Kind == CaseKind.Varlen ? HeadDim : Shape.HeadDim;
    /// <summary>The options, given the case's random generator (for masks and slopes); threads are applied later.</summary>
    public Func<Random, AttentionOptions> Options { get; init; } = _ => new AttentionOptions();
    public bool ReturnSoftmax { get; init; }
    /// <summary>Cosine with l2norm off: L2-normalise q and k per this many groups before rounding; 0 = no.</summary>
    public int PreNormalizeGroups { get; init; }

    public VarlenLayout Layout() => new(CuSeqlensQ, CuSeqlensK, Heads, KvHeads, HeadDim);

    public long QueryLength => Kind == CaseKind.Varlen ? (long)CuSeqlensQ[^1] * Heads * HeadDim : Shape.QueryLength;
    public long KeyValueLength => Kind == CaseKind.Varlen ? (long)CuSeqlensK[^1] * KvHeads * HeadDim : Shape.KeyValueLength;
    public long LseLength => Kind == CaseKind.Varlen ? (long)CuSeqlensQ[^1] * Heads : Shape.LseLength;
    public long SoftmaxLength => Kind == CaseKind.Varlen ? Layout().SoftmaxLength : Shape.SoftmaxLength;
}

/// <summary>The option matrix.</summary>
internal static class CheckCases
{
    /// <summary>
    /// Every option, head dims 1…256, odd sizes 1, 7, 127 and 1000 (quick: 1000 only where cheap), seqlen_q ≠ seqlen_k,
    /// GQA and MQA, decode (one query), rows and a whole sequence that see no key, an empty varlen sequence.
    /// Quick keeps every option case, shrinks the big ones and thins the head-dim sweep.
    /// </summary>
    public static List<CheckCase> Build(bool quick)
    {
        int big = quick ? 300 : 1000;
        int mid = quick ? 127 : 257;
        var cases = new List<CheckCase>
        {
            new() { Name = "single token D=1", Shape = new(1, 1, 1, 1, 1, 1) },
            new() { Name = "GQA causal 7×13 D=16", Shape = new(2, 7, 13, 4, 2, 16), Options = _ => new() { Causal = true } },
            new() { Name = "window(16,8) 127 D=40", Shape = new(1, 127, 127, 3, 3, 40), Options = _ => new() { WindowLeft = 16, WindowRight = 8 } },
            new() { Name = $"plain {big} D=64", Shape = new(1, big, big, 2, 2, 64) },
            // One query or seven keys make these cheap, so they keep N = 1000 in the quick matrix too.
            new() { Name = "decode GQA 1×1000 D=128", Shape = new(3, 1, 1000, 8, 2, 128) },
            new() { Name = "causal 1000×7 (rows see nothing) D=32", Shape = new(1, 1000, 7, 2, 2, 32), Options = _ => new() { Causal = true } },
            new() { Name = "MQA causal 200×77 D=128", Shape = new(2, 200, 77, 4, 1, 128), Options = _ => new() { Causal = true } },
            new() { Name = "softcap cross 65×300 D=256", Shape = new(1, 65, 300, 2, 2, 256), Options = _ => new() { Softcap = 5f, Scale = 0.2f } },
            new() { Name = "peaky scores (scale 1) 127 D=64", Shape = new(1, 127, 127, 2, 2, 64), Options = _ => new() { Scale = 1f } },
            new()
            {
                Name = "ALiBi [H] causal 127×200 D=64", Shape = new(1, 127, 200, 4, 2, 64),
                Options = _ => new() { Causal = true, AlibiSlopes = AlibiSlopes(4, 1) },
            },
            new()
            {
                Name = "ALiBi [B,H]+softcap 50×61 D=32", Shape = new(2, 50, 61, 2, 2, 32),
                Options = _ => new() { Softcap = 3f, AlibiSlopes = AlibiSlopes(2, 2) },
            },
            new()
            {
                Name = "key padding 100×130 D=64", Shape = new(3, 100, 130, 2, 2, 64),
                Options = rng => new() { KeyPaddingMask = PaddingMask(rng, 3, 130) },
            },
            new()
            {
                Name = "window+padding 96×96 D=32", Shape = new(2, 96, 96, 2, 1, 32),
                Options = rng => new() { WindowLeft = 20, WindowRight = 0, KeyPaddingMask = PaddingMask(rng, 2, 96) },
            },
            new()
            {
                Name = "dropout 0.17 + P 64×96 D=32", Shape = new(2, 64, 96, 3, 3, 32), ReturnSoftmax = true,
                Options = rng => new() { DropoutP = 0.17f, Seed = (ulong)rng.NextInt64(), Offset = (ulong)rng.Next(1 << 20) },
            },
            new()
            {
                Name = $"dropout causal {mid} D=128", Shape = new(1, mid, mid, 2, 2, 128),
                Options = rng => new() { Causal = true, DropoutP = 0.1f, Seed = (ulong)rng.NextInt64(), Offset = 12345 },
            },
            new()
            {
                Name = $"window(64,0)+dropout {big} D=64", Shape = new(1, big, big, 2, 1, 64),
                Options = rng => new() { WindowLeft = 64, WindowRight = 0, DropoutP = 0.3f, Seed = (ulong)rng.NextInt64() },
            },
            new() { Name = "causal + P 40×70 D=16", Shape = new(1, 40, 70, 2, 2, 16), ReturnSoftmax = true, Options = _ => new() { Causal = true } },
            new()
            {
                Name = "cosine g1 l2 causal 127 D=64", Shape = new(1, 127, 127, 2, 2, 64),
                Options = _ => new() { Variant = AttentionVariant.Cosine, Causal = true },
            },
            new()
            {
                Name = "cosine g2 pre-normed 33×50 D=128", Shape = new(2, 33, 50, 2, 1, 128), PreNormalizeGroups = 2,
                Options = _ => new() { Variant = AttentionVariant.Cosine, CosineGroups = 2, L2NormalizeQK = false },
            },
            new()
            {
                Name = "cosine g2 l2 + padding 60×45 D=16", Shape = new(2, 60, 45, 2, 2, 16),
                Options = rng => new() { Variant = AttentionVariant.Cosine, CosineGroups = 2, CosineScale = 6f, KeyPaddingMask = PaddingMask(rng, 2, 45) },
            },
            new()
            {
                Name = "cosine g1 pre-normed MQA + P 70×90 D=40", Shape = new(1, 70, 90, 3, 1, 40), PreNormalizeGroups = 1, ReturnSoftmax = true,
                Options = _ => new() { Variant = AttentionVariant.Cosine, L2NormalizeQK = false, Causal = true },
            },
            new()
            {
                Name = "varlen causal + P D=64", Kind = CaseKind.Varlen, Heads = 4, KvHeads = 2, HeadDim = 64, ReturnSoftmax = true,
                CuSeqlensQ = [0, 7, 7, 134, 135], CuSeqlensK = [0, 20, 25, 152, 153], Options = _ => new() { Causal = true },
            },
            new()
            {
                Name = "varlen dropout+softcap D=48", Kind = CaseKind.Varlen, Heads = 2, KvHeads = 1, HeadDim = 48,
                CuSeqlensQ = [0, 1, 65, 165], CuSeqlensK = [0, 31, 40, 200],
                Options = rng => new() { DropoutP = 0.25f, Seed = (ulong)rng.NextInt64(), Softcap = 4f },
            },
            new()
            {
                Name = "varlen window + padding D=128", Kind = CaseKind.Varlen, Heads = 2, KvHeads = 2, HeadDim = 128,
                CuSeqlensQ = [0, 50, 120], CuSeqlensK = [0, 80, 110],
                Options = rng => new() { WindowLeft = 10, WindowRight = 10, KeyPaddingMask = PaddingMask(rng, 2, 80) },
            },
            new()
            {
                Name = "varlen empty key sequence D=24", Kind = CaseKind.Varlen, Heads = 3, KvHeads = 3, HeadDim = 24,
                CuSeqlensQ = [0, 5, 12], CuSeqlensK = [0, 0, 9],
            },
            new() { Name = "window(0,0) diagonal only 50 D=8", Shape = new(1, 50, 50, 2, 2, 8), Options = _ => new() { WindowLeft = 0, WindowRight = 0 } },
            new()
            {
                Name = "cosine + softcap 40×40 D=32", Shape = new(1, 40, 40, 2, 2, 32),
                Options = _ => new() { Variant = AttentionVariant.Cosine, Softcap = 5f },
            },
            new()
            {
                Name = "GQA dropout + P 33×47 D=256", Shape = new(1, 33, 47, 4, 2, 256), ReturnSoftmax = true,
                Options = rng => new() { DropoutP = 0.5f, Seed = (ulong)rng.NextInt64(), Offset = 3 },
            },
            new()
            {
                Name = "ALiBi causal 90×40 + window(5,-1) D=16", Shape = new(2, 90, 40, 2, 1, 16),
                Options = _ => new() { Causal = true, WindowLeft = 5, AlibiSlopes = AlibiSlopes(2, 1) },
            },
            new()
            {
                Name = "dropout 0.9 + P 31×29 D=1", Shape = new(1, 31, 29, 2, 2, 1), ReturnSoftmax = true,
                Options = rng => new() { DropoutP = 0.9f, Seed = (ulong)rng.NextInt64() },
            },
            new()
            {
                Name = "user score+mask mod 100×140 D=48", Kind = CaseKind.DenseUserMods, Shape = new(1, 100, 140, 2, 2, 48),
            },
        };

        // Head-dim sweep: every size class the kernels pad differently (below, at and between vector widths), to 256.
        int[] dims = quick ? [2, 24, 80, 160, 256] : [2, 3, 8, 24, 32, 48, 56, 80, 96, 112, 160, 192, 200, 224, 256];
        for (int i = 0; i < dims.Length; i++)
        {
            bool causal = i % 2 == 0;
            int d = dims[i];
            cases.Add(new()
            {
                Name = $"head dim {d} MQA{(causal ? " causal" : "")} 61×83", Shape = new(1, 61, 83, 2, 1, d),
                Options = _ => new() { Causal = causal },
            });
        }
        return cases;
    }

    /// <summary>ALiBi's geometric slopes 2^(−8(h+1)/H), varied per sequence when [B, H].</summary>
    private static float[] AlibiSlopes(int heads, int batch)
    {
        var slopes = new float[batch * heads];
        for (int b = 0; b < batch; b++)
            for (int h = 0; h < heads; h++)
                slopes[b * heads + h] = MathF.Pow(2f, -8f * (h + 1) / heads) * (1 + 0.5f * b);
        return slopes;
    }

    /// <summary>
    /// [batch, n] keep-mask: sequence 0 keeps a random ~70 %, sequence 1 a 60 % prefix (ordinary padding),
    /// sequence 2 (when present) nothing at all, so its rows must give output 0, LSE +∞ and zero gradients.
    /// </summary>
    private static bool[] PaddingMask(Random rng, int batch, int n)
    {
        var keep = new bool[batch * n];
        for (int j = 0; j < n; j++)
        {
            keep[j] = rng.NextDouble() < 0.7;
            if (batch > 1)
                keep[n + j] = j < n * 6 / 10;
        }
        return keep;
    }
}

/// <summary>A user score modifier: head-dependent temperature, a non-linear term and a relative-position bias.</summary>
internal readonly struct CheckScoreMod : IScoreMod
{
    private static float Temperature(int head) => 1f + 0.25f * head;

    /// <inheritdoc />
    public float Apply(float score, in ScorePosition at) =>
        score * Temperature(at.Head) + 0.2f * MathF.Sin(score) + 0.25f * MathF.Sin(0.3f * (at.QueryIndex - at.KeyIndex));

    /// <inheritdoc />
    public float Derivative(float score, in ScorePosition at) => Temperature(at.Head) + 0.2f * MathF.Cos(score);

    /// <inheritdoc />
    public void ApplyRow(Span<float> scores, Span<float> derivatives, in ScorePosition rowStart) =>
        ScoreMods.ApplyEach(this, scores, derivatives, rowStart);
}

/// <summary>A user mask: prefix-LM (the first <c>Prefix</c> keys are visible to all, the rest causally), with a real tile classification.</summary>
internal readonly struct PrefixLmMask(int prefix) : IMaskMod
{
    private readonly int _prefix = prefix;

    /// <inheritdoc />
    public bool IsVisible(in ScorePosition at) =>
        at.KeyIndex < _prefix || at.KeyIndex <= at.QueryIndex + at.SeqLenK - at.SeqLenQ;

    /// <inheritdoc />
    public BlockCoverage Classify(in TileBounds tile)
    {
        int shift = tile.SeqLenK - tile.SeqLenQ;
        if (tile.KeyEnd <= _prefix || tile.KeyEnd - 1 <= tile.QueryStart + shift)
            return BlockCoverage.Full;
        if (tile.KeyStart >= _prefix && tile.KeyStart > tile.QueryEnd - 1 + shift)
            return BlockCoverage.Empty;
        return BlockCoverage.Partial;
    }

    /// <inheritdoc />
    public void ApplyRow(Span<float> scores, in ScorePosition rowStart) => ScoreMods.MaskEach(this, scores, rowStart);
}

/// <summary>A case's random inputs in float32 (rounded to each dtype when run) and its options.</summary>
internal sealed class CaseData
{
    public required float[] Q { get; init; }
    public required float[] K { get; init; }
    public required float[] V { get; init; }
    public required float[] DOut { get; init; }
    public required AttentionOptions Options { get; init; }

    public static CaseData Create(CheckCase c, int seed)
    {
        var rng = new Random(seed);
        var q = Gaussian(rng, c.QueryLength);
        var k = Gaussian(rng, c.KeyValueLength);
        var v = Gaussian(rng, c.KeyValueLength);
        var dOut = Gaussian(rng, c.QueryLength);
        if (c.PreNormalizeGroups > 0)
        {
            Normalize(q, c.D / c.PreNormalizeGroups);
            Normalize(k, c.D / c.PreNormalizeGroups);
        }
        return new CaseData { Q = q, K = k, V = v, DOut = dOut, Options = c.Options(rng) };
    }

    /// <summary>Standard normal values (torch.randn's distribution): scores then have unit spread at scale 1/√D.</summary>
    private static float[] Gaussian(Random rng, long length)
    {
        var x = new float[length];
        for (long i = 0; i < length; i += 2)
        {
            double u1 = 1.0 - rng.NextDouble(), u2 = rng.NextDouble();
            double r = Math.Sqrt(-2 * Math.Log(u1));
            x[i] = (float)(r * Math.Cos(2 * Math.PI * u2));
            if (i + 1 < length)
                x[i + 1] = (float)(r * Math.Sin(2 * Math.PI * u2));
        }
        return x;
    }

    private static void Normalize(float[] x, int group)
    {
        for (int start = 0; start < x.Length; start += group)
        {
            var part = x.AsSpan(start, group);
            float norm = System.Numerics.Tensors.TensorPrimitives.Norm(part);
            System.Numerics.Tensors.TensorPrimitives.Divide(part, norm, part);
        }
    }
}

/// <summary>Runs one case in one dtype: flash forward and backward, the reference, the comparisons.</summary>
internal static class CaseRunner
{
    public static CheckResult Run(CheckCase c, CaseData data, CheckDtype dtype, int threads) => dtype switch
    {
        CheckDtype.Float32 => Run<float>(c, data, dtype, threads),
        CheckDtype.Float16 => Run<Half>(c, data, dtype, threads),
        _ => Run<BFloat16>(c, data, dtype, threads),
    };

    private static CheckResult Run<T>(CheckCase c, CaseData data, CheckDtype dtype, int threads) where T : unmanaged
    {
        var result = new CheckResult(c.Name, dtype);
        try
        {
            var options = data.Options with { MaxDegreeOfParallelism = threads };
            T[] q = Convert<T>(data.Q), k = Convert<T>(data.K), v = Convert<T>(data.V), dOut = Convert<T>(data.DOut);
            var o = new T[c.QueryLength];
            var lse = new float[c.LseLength];
            float[] p = c.ReturnSoftmax ? new float[c.SoftmaxLength] : [];
            var dq = new T[c.QueryLength];
            var dk = new T[c.KeyValueLength];
            var dv = new T[c.KeyValueLength];
            ReferenceForward rf;
            ReferenceGradients rg;
            switch (c.Kind)
            {
                case CaseKind.Varlen:
                {
                    var layout = c.Layout();
                    Attention.ForwardVarlen<T>(layout, q, k, v, o, lse, options, p);
                    Attention.BackwardVarlen<T>(layout, q, k, v, o, lse, dOut, dq, dk, dv, options);
                    rf = ReferenceAttention.ForwardVarlen<T>(layout, q, k, v, options);
                    rg = ReferenceAttention.BackwardVarlen<T>(layout, q, k, v, dOut, options);
                    break;
                }
                case CaseKind.DenseUserMods:
                {
                    var score = new CheckScoreMod();
                    var mask = new PrefixLmMask(c.Shape.SeqLenK / 5);
                    Attention.Forward<T, CheckScoreMod, PrefixLmMask>(c.Shape, q, k, v, o, lse, score, mask, options, p);
                    Attention.Backward<T, CheckScoreMod, PrefixLmMask>(c.Shape, q, k, v, o, lse, dOut, dq, dk, dv, score, mask, options);
                    rf = ReferenceAttention.Forward<T, CheckScoreMod, PrefixLmMask>(c.Shape, q, k, v, score, mask, options);
                    rg = ReferenceAttention.Backward<T, CheckScoreMod, PrefixLmMask>(c.Shape, q, k, v, dOut, score, mask, options);
                    break;
                }
                default:
                    Attention.Forward<T>(c.Shape, q, k, v, o, lse, options, p);
                    Attention.Backward<T>(c.Shape, q, k, v, o, lse, dOut, dq, dk, dv, options);
                    rf = ReferenceAttention.Forward<T>(c.Shape, q, k, v, options);
                    rg = ReferenceAttention.Backward<T>(c.Shape, q, k, v, dOut, options);
                    break;
            }
            result.Errors[CheckTensor.Output] = ErrorMeasure.Relative(ToFloat(o), rf.Output);
            result.Errors[CheckTensor.Lse] = ErrorMeasure.Relative(lse, rf.Lse);
            if (c.ReturnSoftmax)
            {
                result.Errors[CheckTensor.Softmax] = ErrorMeasure.RelativeMagnitude(p, rf.Probabilities, out long signMismatches, out long signChecked);
                if (signMismatches > 0)
                {
                    result.Failed = true;
                    result.Note = $"dropout sign bit wrong in {signMismatches} of {signChecked} entries";
                }
            }
            result.Errors[CheckTensor.DQ] = ErrorMeasure.Relative(ToFloat(dq), rg.DQ);
            result.Errors[CheckTensor.DK] = ErrorMeasure.Relative(ToFloat(dk), rg.DK);
            result.Errors[CheckTensor.DV] = ErrorMeasure.Relative(ToFloat(dv), rg.DV);
        }
        catch (Exception e)
        {
            result.Failed = true;
            result.Note = $"{e.GetType().Name}: {e.Message}";
        }
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

/// <summary>The error measures of the quality bar.</summary>
internal static class ErrorMeasure
{
    /// <summary>
    /// ‖actual − expected‖ / ‖expected‖ over the finite entries (the absolute norm when the reference is all zero);
    /// an infinity (a fully masked row's LSE) must be matched exactly, else the error is +∞; a NaN gives NaN.
    /// </summary>
    public static double Relative(ReadOnlySpan<float> actual, ReadOnlySpan<double> expected)
    {
        if (actual.Length != expected.Length)
            throw new ArgumentException($"Compared tensors differ in length: {actual.Length} vs {expected.Length}.");
        double num = 0, den = 0;
        for (int i = 0; i < actual.Length; i++)
        {
            double a = actual[i], e = expected[i];
            if (double.IsNaN(a) || double.IsNaN(e))
                return double.NaN;
            if (double.IsInfinity(a) || double.IsInfinity(e))
            {
                if (a != e)
                    return double.PositiveInfinity;
                continue;
            }
            num += (a - e) * (a - e);
            den += e * e;
        }
        return den == 0 ? Math.Sqrt(num) : Math.Sqrt(num / den);
    }

    /// <summary>
    /// The returned softmax: relative error of |x| against |ref|, plus the dropout sign bit, which must agree wherever the
    /// reference probability is non-zero (a zero, masked probability carries no information in its sign).
    /// </summary>
    public static double RelativeMagnitude(ReadOnlySpan<float> actual, ReadOnlySpan<double> expected, out long signMismatches, out long signChecked)
    {
        signMismatches = 0;
        signChecked = 0;
        if (actual.Length != expected.Length)
            throw new ArgumentException($"Compared tensors differ in length: {actual.Length} vs {expected.Length}.");
        double num = 0, den = 0;
        for (int i = 0; i < actual.Length; i++)
        {
            double a = actual[i], e = expected[i];
            if (double.IsNaN(a) || double.IsNaN(e))
                return double.NaN;
            if (e != 0)
            {
                signChecked++;
                if (float.IsNegative(actual[i]) != double.IsNegative(e))
                    signMismatches++;
            }
            double diff = Math.Abs(a) - Math.Abs(e);
            num += diff * diff;
            den += e * e;
        }
        return den == 0 ? Math.Sqrt(num) : Math.Sqrt(num / den);
    }
}
