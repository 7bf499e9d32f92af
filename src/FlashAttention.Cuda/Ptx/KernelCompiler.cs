using System.Reflection;
using System.Text;
using System.Text.RegularExpressions;
using ILGPU;
using ILGPU.Backends;
using ILGPU.Backends.EntryPoints;
using ILGPU.Backends.PTX;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;

namespace FlashAttention.Cuda.Ptx;

/// <summary>
/// Compiles C# kernels to PTX text with ILGPU's PTX backend, with no GPU needed: a private ILGPU context that knows the
/// <see cref="PtxOps"/> intrinsics, then a few text edits that ILGPU cannot express (the module-scope dynamic shared
/// array, and removal of the never-called intrinsic stubs). The same text is what tests inspect and what
/// <see cref="CudaModule"/> loads, so what CI checks is what runs.
/// </summary>
internal sealed partial class KernelCompiler : IDisposable
{
    /// <summary>PTX target: sm_80 code runs on Ampere and Hopper (the driver compiles it for the actual device).</summary>
    public static readonly CudaArchitecture Architecture = CudaArchitecture.SM_80;

    /// <summary>PTX ISA 7.8: accepted by CUDA 11.8's ptxas and by every newer driver.</summary>
    public static readonly CudaInstructionSet InstructionSet = CudaInstructionSet.ISA_78;

    private readonly Context _context;
    private readonly PTXBackend _backend;
    private readonly Lock _gate = new();

    /// <summary>Creates the compilation context.</summary>
    public KernelCompiler()
    {
        _context = Context.Create(builder =>
        {
            builder.Optimize(OptimizationLevel.O1);
            PtxOps.Register(builder);
        });
        _backend = new PTXBackend(_context, new CudaCapabilityContext(Architecture), Architecture, InstructionSet, null);
    }

    /// <summary>Compiles an explicitly grouped kernel (one parameter struct, <paramref name="threads"/> per block).</summary>
    /// <returns>The PTX module text and the name of its entry point.</returns>
    public (string Ptx, string Entry) Compile(MethodInfo kernel, int threads, int minBlocksPerSm = 1)
    {
        string raw;
        lock (_gate)
        {
            var entry = EntryPointDescription.FromExplicitlyGroupedKernel(kernel);
            var compiled = (PTXCompiledKernel)_backend.Compile(entry, new KernelSpecialization(threads, minBlocksPerSm));
            raw = compiled.PTXAssembly;
        }
        string ptx = Patch(raw);
        var match = EntryRegex().Match(ptx);
        if (!match.Success)
            throw new InvalidOperationException($"No .entry in the PTX generated for {kernel.Name}.");
        return (ptx, match.Groups[1].Value);
    }

    /// <summary>
    /// Declares the dynamic shared array and drops the intrinsic stub functions; a module that uses an sm_90-only
    /// instruction (<see cref="PtxOps.Sm90Instructions"/>) is retargeted to sm_90 with PTX ISA 8.1, one with an sm_90a
    /// instruction (<see cref="PtxOps.Sm90aInstructions"/>: wgmma) to sm_90a with PTX ISA 8.0 or newer.
    /// </summary>
    internal static string Patch(string ptx)
    {
        if (PtxOps.Sm90aInstructions.Any(ptx.Contains))
            ptx = Retarget(ptx, "8.0", "sm_90a");
        else if (PtxOps.Sm90Instructions.Any(ptx.Contains))
            ptx = Retarget(ptx, "8.1", "sm_90");
        var names = PtxOps.IntrinsicNames.ToHashSet();
        var output = new StringBuilder(ptx.Length + 128);
        using var reader = new StringReader(ptx);
        bool skipping = false;
        for (string? line = reader.ReadLine(); line is not null; line = reader.ReadLine())
        {
            if (skipping)
            {
                if (line == ";" || line == "}")
                    skipping = false;
                continue;
            }
            if (line.StartsWith(".visible .func", StringComparison.Ordinal) && IsIntrinsicStub(line, names))
            {
                skipping = true;
                continue;
            }
            output.Append(line).Append('\n');
            if (line.StartsWith(".address_size", StringComparison.Ordinal))
                output.Append(".extern .shared .align 16 .b8 ").Append(PtxOps.SharedArrayName).Append("[];\n");
        }
        return output.ToString();
    }

    /// <summary>Whether a compiled module runs on sm_90 and newer only.</summary>
    internal static bool IsSm90Only(string ptx) => ptx.Contains("\n.target sm_90", StringComparison.Ordinal);

    private static string Retarget(string ptx, string minimumVersion, string architecture)
    {
        var version = VersionRegex().Match(ptx);
        var target = TargetRegex().Match(ptx);
        if (!version.Success || !target.Success)
            throw new InvalidOperationException("The PTX has no .version or .target line to retarget.");
        var culture = System.Globalization.CultureInfo.InvariantCulture;
        if (double.Parse(version.Groups[1].Value, culture) < double.Parse(minimumVersion, culture))
            ptx = ptx.Remove(version.Index, version.Length).Insert(version.Index, ".version " + minimumVersion);
        target = TargetRegex().Match(ptx);
        return ptx.Remove(target.Index, target.Length).Insert(target.Index, ".target " + architecture);
    }

    [GeneratedRegex(@"(?m)^\.version (\d+\.\d+)")]
    private static partial Regex VersionRegex();

    [GeneratedRegex(@"(?m)^\.target sm_\d+a?")]
    private static partial Regex TargetRegex();

    private static bool IsIntrinsicStub(string line, HashSet<string> names)
    {
        var match = FuncNameRegex().Match(line);
        return match.Success && names.Contains(match.Groups[1].Value);
    }

    [GeneratedRegex(@"\.entry\s+([A-Za-z0-9_$]+)\s*\(")]
    private static partial Regex EntryRegex();

    [GeneratedRegex(@"([A-Za-z0-9]+)_\d+\s*\(\s*$")]
    private static partial Regex FuncNameRegex();

    /// <inheritdoc />
    public void Dispose() => _context.Dispose();
}
