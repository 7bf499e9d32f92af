using System.Text.Json;
using System.Text.Json.Nodes;
using FlashAttention.Cuda;
using FlashAttention.Cuda.Kernels;
using FlashAttention.Cuda.Probe;

// The GPU probe of the CUDA backend. Subcommands:
//   tests [FILTER...]                run the CUDA test project's tests on the device (FLASHATTN_TEST_BACKEND=cuda);
//                                    FILTER: substrings of Class.Method
//   wgmma [--ptx FILE [--forward KERNEL]]             warpgroup MMA (sm_90a) from C# on one tile, against double precision
//   wgmma-forward [--lengths a,b] [--library KERNEL] [--kernels label,…]  the wgmma D128 forward prototype: check, then
//                                    time (--kernels: only these prototype variants, e.g. unrolled3wg,ws128)
//   cpu-dtypes ROUND ITERS [T]       the CPU forward with fp32, fp16 and bf16 interleaved (median and best of ITERS calls)
//   cpu-pairs TRIPLES [T] [--budget-mib M]  fp16/bf16 against fp32 call by call (median per-triple ratio); M: the
//                                    shared K/V copies' budget (default 4)
//   ptx DIR [--all-features] [--only S]   compile every kernel variant to PTX (no GPU needed); with the flag, every forward
//                                    variant also with dropout and with ALiBi (not just the defaults)
//   all --out DIR [--quick] [--no-bench] [--no-check] [--no-cli] [--no-jit] [--jit-only S] [--variants a,b]
//       [--jit-forward] [--lengths 1024,2048] [--bf16-only] [--no-features]  (the forward grid's sequence lengths; bf16 rows only;
//       without the ALiBi/dropout rows) [--bwd-variants a,b] [--bwd-lengths 2048,8192] [--bwd-dropout P] [--breakdown [--breakdown-lengths 8192,16384]] (backward kernels beside the
//       defaults, the backward grid's lengths) [--jit-sets a,b] (every feature set for these kernels too)
//       [--feature-bench [--feature-lengths 2048,8192] [--feature-dims 64,96,128,256] [--feature-forward-only]] (candidate kernels timed with the features on)
//                                    JIT report, the flashattn tool's --device cuda path, correctness check, then the
//                                    timing grid; writes DIR/probe.json
string command = args.Length > 0 ? args[0] : "all";
string? Option(string name)
{
    int i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
}
bool Flag(string name) => args.Contains(name);
// A comma-separated list of integers given with an option (null when the option is absent).
int[]? Ints(string name) => Option(name)?.Split(',').Select(int.Parse).ToArray();
// A subcommand that needs the GPU: exit code 3 with the reason when there is none.
int OnDevice(Func<CudaAttention, int> run)
{
    if (!CudaAttention.IsAvailable)
    {
        Console.WriteLine($"no CUDA device: {CudaAttention.UnavailableReason}");
        return 3;
    }
    using var cuda = new CudaAttention();
    return run(cuda);
}

switch (command)
{
    case "ptx":
        return PtxDump.Run(args.Length > 1 && !args[1].StartsWith("--") ? args[1] : "ptx", Flag("--all-features"), Option("--only"));
    case "cli":
        // The flashattn tool in-process (one self-contained publish carries both).
        return FlashAttention.Cli.Program.Run(args[1..], Console.Out, Console.Error);
    case "tests":
        // The CUDA test project's facts and theories on the device (no dotnet test there): probe tests [FILTER...].
        return TestRunner.Run(args[1..]);
    case "cpu-dtypes":
        // The CPU forward, fp32/fp16/bf16 interleaved: probe cpu-dtypes ROUND ITERS.
        return CpuDtypeBench.Run(int.Parse(args[1]), int.Parse(args[2]), args.Length > 3 ? int.Parse(args[3]) : -1);
    case "cpu-pairs":
        // fp16/bf16 against fp32 storage call by call: probe cpu-pairs TRIPLES [THREADS].
        if (Option("--budget-mib") is { } budget)
            CpuStorageTypes.SetSharing("BudgetBytes", long.Parse(budget) << 20);
        return CpuDtypePairs.Run(int.Parse(args[1]), args.Length > 2 && !args[2].StartsWith("--") ? int.Parse(args[2]) : -1);
    case "wgmma":
        // Warpgroup MMA (sm_90a) from C#: S = A·Bᵀ and O = bf16(S)·V on one 64×64 tile against double precision;
        // with --ptx FILE only its PTX (no GPU needed).
        if (Option("--ptx") is { } ptxFile)
        {
            using var compiler = new FlashAttention.Cuda.Ptx.KernelCompiler();
            var method = Option("--forward") is { } forward ? typeof(WgmmaForward).GetMethod(forward)! : typeof(WgmmaCheck).GetMethod(nameof(WgmmaCheck.Kernel))!;
            File.WriteAllText(ptxFile, compiler.Compile(method, method.Name == nameof(WgmmaForward.KernelUnrolled3) ? WgmmaForward.Threads3 : Flag("--forward") ? WgmmaForward.Threads : 128).Ptx);
            return 0;
        }
        return OnDevice(WgmmaCheck.Run);
    case "wgmma-forward":
        // The wgmma forward prototype (D128, bf16, non-causal): checked against double precision, timed beside a library kernel.
        return OnDevice(cuda => WgmmaForward.Run(cuda, Option("--library") ?? "D128_M128_N48_W4_QS_LR_SE",
            Ints("--lengths") ?? [1024, 2048, 4096, 8192, 16384], Option("--kernels")?.Split(',')));
    case "all":
        break;
    default:
        Console.Error.WriteLine("usage: probe ptx DIR | probe all --out DIR [--quick] [--no-bench] [--no-check] [--variants a,b]");
        return 2;
}

string outDir = Option("--out") ?? ".";
Directory.CreateDirectory(outDir);
var variants = Option("--variants") is { } list
    ? list.Split(',').Select(ForwardVariant.Find).ToList()
    : ForwardKernels.Variants.ToList();
var report = new JsonObject { ["date"] = DateTime.UtcNow.ToString("O") };
void Save() => File.WriteAllText(Path.Combine(outDir, "probe.json"), report.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));

if (!CudaAttention.IsAvailable)
{
    Console.WriteLine($"no CUDA device: {CudaAttention.UnavailableReason}");
    return 3;
}
using var cuda = new CudaAttention();
var acc = (ILGPU.Runtime.Cuda.CudaAccelerator)cuda.Accelerator;
Console.WriteLine($"device: {acc.Name}, {acc.NumMultiprocessors} SMs, arch {acc.Architecture}, PTX ISA {acc.InstructionSet}, driver {acc.DriverVersion}");
report["device"] = $"{acc.Name}, {acc.NumMultiprocessors} SMs, {acc.Architecture}, driver {acc.DriverVersion}";

// JIT every variant for both element kinds: registers, local memory (stack/spills), occupancy.
var jit = new JsonArray();
using (var log = new StreamWriter(Path.Combine(outDir, "jit.log")))
{
    var jobs = new List<(string Label, System.Reflection.MethodInfo Method, string Name, int Threads, int Shared, int MinBlocks)>();
    Type[] featureSets = [typeof(AlibiFeature), typeof(DropoutFeature), typeof(AlibiDropoutFeatures)];
    static string FeatureLabel(Type f) => f == typeof(NoFeatures) ? "" : "+" + f.Name.Replace("Features", "").Replace("Feature", "");
    // A kernel's JIT jobs: without features, or (everySet) with each feature set and with softcap as well.
    void AddJobs(string name, Func<Type, Type, System.Reflection.MethodInfo> method, int threads, int shared, string kind, bool everySet)
    {
        foreach (var f in everySet ? featureSets.Prepend(typeof(NoFeatures)) : [typeof(NoFeatures)])
            jobs.Add(($"{name}{FeatureLabel(f)} {kind}", method(typeof(PositiveScale), f), name, threads, shared, 1));
        if (everySet)
            jobs.Add(($"{name}+softcap {kind}", method(typeof(SoftcapScore), typeof(NoFeatures)), name, threads, shared, 1));
    }
    bool defaultsOnly = Flag("--jit-defaults");
    if (defaultsOnly)
        variants = [.. variants.Where(v => CudaAttention.KernelHeadDims.Any(d => CudaAttention.DefaultVariants(d).Contains(v)))];
    foreach (var kind in new[] { typeof(Fp16Kind), typeof(Bf16Kind) })
    {
        string k = kind == typeof(Fp16Kind) ? "fp16" : "bf16";
        foreach (var v in variants)
        {
            bool everySet = CudaAttention.DefaultVariants(v.HeadDim).Contains(v)
                || (Option("--jit-sets") is { } withSets && withSets.Split(',').Contains(v.Name));
            AddJobs(v.Name, (score, features) => v.Method(kind, score, features), v.Threads, v.SharedBytes, k, everySet);
        }
        var defaults = CudaAttention.KernelHeadDims.SelectMany(d =>
            CudaAttention.DefaultBackward(d, atomicDq: false).Kv.Append(CudaAttention.DefaultBackward(d, atomicDq: false).Dq!)
                .Append(CudaAttention.DefaultBackward(d, atomicDq: false, options: new() { DropoutP = 0.1f }).Dq!)
                .Concat(CudaAttention.DefaultBackward(d, atomicDq: true).Kv)).ToHashSet();
        // --jit-forward: the forward variants named by --variants only.
        foreach (var v in Flag("--jit-forward") ? [] : BackwardKernels.KvVariants.Concat(BackwardKernels.DqVariants).Concat(BackwardKernels.SoftmaxVariants))
        {
            if ((kind == typeof(Fp16Kind) || defaultsOnly) && !defaults.Contains(v) && !BackwardKernels.SoftmaxVariants.Contains(v))
                continue;
            // Every feature set for the defaults and for the kernels named with --jit-only (candidates for a default).
            // --jit-sets a,b: every feature set for these kernels too.
            bool allSets = defaults.Contains(v) || (Option("--jit-only") is { } named && v.Name.Contains(named, StringComparison.Ordinal))
                || (Option("--jit-sets") is { } withSets && withSets.Split(',').Contains(v.Name));
            AddJobs(v.Name, (score, features) => v.Method(kind, score, features), v.Threads, v.SharedBytes, k, allSets);
        }
    }
    // The Hopper dQ kernel (bf16, the plain case only), with its register cap.
    foreach (var form in cuda.IsSm90 ? Sm90BackwardDq.Forms : [])
        jobs.Add(($"{form.Label} bf16", form.Kernel, form.Label, form.Threads, form.SharedBytes, form.MinBlocksPerSm));
    // The Hopper dK/dV kernel, likewise.
    foreach (var form in cuda.IsSm90 ? Sm90BackwardKv.Forms : [])
        jobs.Add(($"{form.Label} bf16", form.Kernel, form.Label, form.Threads, form.SharedBytes, form.MinBlocksPerSm));
    // --no-jit: skip the report (the driver JIT of every kernel takes minutes on a fresh machine); --jit-only S: only the
    // kernels whose label contains S.
    if (Option("--jit-only") is { } only)
        jobs = [.. jobs.Where(j => j.Label.Contains(only, StringComparison.Ordinal))];
    foreach (var (label, method, name, threads, shared, minBlocks) in Flag("--no-jit") ? [] : jobs)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var kernel = cuda.GetKernel(method, name, threads, shared, minBlocks);
        int blocks = kernel.Module!.BlocksPerMultiprocessor(threads, shared);
        string line = $"{label,-44} regs {kernel.Module.Registers,3}  local {kernel.Module.LocalBytes,3} B  " +
            $"smem {shared / 1024,3} KiB  blocks/SM {blocks}  compile+JIT {clock.Elapsed.TotalSeconds:F1} s";
        Console.WriteLine(line);
        log.WriteLine(line);
        log.WriteLine(kernel.Module.JitLog);
        jit.Add(new JsonObject
        {
            ["kernel"] = label, ["registers"] = kernel.Module.Registers, ["local_bytes"] = kernel.Module.LocalBytes,
            ["blocks_per_sm"] = blocks, ["shared_bytes"] = shared, ["jit_log"] = kernel.Module.JitLog,
        });
    }
}
report["jit"] = jit;
Save();

bool passed = true;
if (!Flag("--no-cli"))
{
    // Before the check: the tool opens its own CudaAttention (the device is shared between the two instances).
    bool ok = CliCheck.Run(Path.Combine(outDir, "cli"));
    passed &= ok;
    report["cli_passed"] = ok;
    Save();
}
if (!Flag("--no-check"))
{
    var (ok, rows) = Check.Run(cuda, variants);
    passed &= ok;
    report["check"] = rows;
    report["check_passed"] = ok;
    Save();
}

if (Flag("--breakdown"))
{
    report["backward_breakdown"] = BackwardBench.Breakdown(cuda, Ints("--breakdown-lengths"));
    Save();
}

if (!Flag("--no-bwd-check"))
{
    var (ok, rows) = BackwardCheck.Run(cuda);
    passed &= ok;
    report["backward_check"] = rows;
    report["backward_check_passed"] = ok;
    Save();
}

if (!Flag("--no-bwd-bench"))
{
    int[] lengths = Ints("--bwd-lengths")
        ?? (Flag("--quick") ? [2048, 8192] : [512, 1024, 2048, 4096, 8192, 16384]);
    // --bwd-variants a,b: only these kernels beside the defaults (default: every kernel, or none with --default-only).
    var named = Option("--bwd-variants")?.Split(',').ToHashSet();
    // --bwd-dropout P: every timed backward call with dropout P.
    float dropout = Option("--bwd-dropout") is { } p ? float.Parse(p, System.Globalization.CultureInfo.InvariantCulture) : 0f;
    report["backward_bench"] = BackwardBench.Run(cuda, lengths, allVariants: !Flag("--default-only") || named is not null, named, dropout);
    Save();
}

if (Flag("--feature-bench"))
{
    // --feature-bench [--feature-lengths 2048,8192] [--feature-dims 64,96,128,256] [--feature-forward-only]: the feature kernels timed with their features.
    int[] lengths = Ints("--feature-lengths") ?? [2048, 8192];
    int[] dims = Ints("--feature-dims") ?? [64, 96, 128, 256];
    report["feature_bench"] = FeatureBench.Run(cuda, lengths, dims, forwardOnly: Flag("--feature-forward-only"));
    Save();
}

if (!Flag("--no-bench"))
{
    int[] lengths = Ints("--lengths")
        ?? (Flag("--quick") ? [2048, 8192] : [512, 1024, 2048, 4096, 8192, 16384]);
    var rows = Bench.Run(cuda, variants, lengths, alsoFp16: !Flag("--quick") && !Flag("--bf16-only"), features: !Flag("--no-features"));
    report["bench"] = rows;
    Save();
    Console.WriteLine();
    Console.WriteLine("best forward TFLOP/s per point (bf16):");
    foreach (var group in rows.OfType<JsonObject>()
                 .Where(r => r["tflops"] is not null && (string)r["dtype"]! == "bf16")
                 .GroupBy(r => ((int)r["d"]!, (bool)r["causal"]!, (int)r["n"]!)))
    {
        var best = group.MaxBy(r => (double)r["tflops"]!)!;
        Console.WriteLine($"  d{group.Key.Item1,-4} {(group.Key.Item2 ? "causal" : "full  ")} n{group.Key.Item3,-6} {(double)best["tflops"]!,7:F1}  {best["kernel"]}");
    }
}
return passed ? 0 : 1;
