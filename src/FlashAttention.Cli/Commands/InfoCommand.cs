using System.CommandLine;
using System.Globalization;
using System.Numerics;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;
using Spectre.Console;

namespace FlashAttention.Cli.Commands;

/// <summary>
/// <c>flashattn info</c>: what this machine offers the kernels: cores, SIMD width and FMA, the .NET runtime, CUDA
/// devices, and the measured float32 FMA peak (the roof the benchmarks compare against).
/// </summary>
internal static class InfoCommand
{
    /// <summary>Builds the subcommand.</summary>
    public static Command Create()
    {
        var threads = AttentionFlags.CreateThreadsOption();
        var noPeak = new Option<bool>("--no-peak") { Description = "Skip the FMA peak measurement (it takes about a second)." };
        var command = new Command("info", "Cores, SIMD width, FMA, .NET version, CUDA devices and the measured FMA peak.");
        command.Add(threads);
        command.Add(noPeak);
        command.SetAction(parse => CommandRunner.Run(parse, stdout =>
        {
            int threadCount = AttentionFlags.ReadThreads(parse, threads) ?? Environment.ProcessorCount;
            var table = new Table().AddColumn("Property").AddColumn("Value");
            foreach (var (name, value) in Describe(threadCount, parse.GetValue(noPeak)))
                table.AddRow(Markup.Escape(name), Markup.Escape(value));
            CreateConsole(stdout).Write(table);
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static IEnumerable<(string Name, string Value)> Describe(int threads, bool skipPeak)
    {
        yield return ("Logical cores", Environment.ProcessorCount.ToString(CultureInfo.InvariantCulture));
        yield return ("OS / architecture", $"{RuntimeInformation.OSDescription} / {RuntimeInformation.ProcessArchitecture}");
        yield return (".NET", RuntimeInformation.FrameworkDescription);
        yield return ("Vector128 / 256 / 512 accelerated",
            $"{YesNo(Vector128.IsHardwareAccelerated)} / {YesNo(Vector256.IsHardwareAccelerated)} / {YesNo(Vector512.IsHardwareAccelerated)}");
        yield return ("SIMD width used", $"{MachinePeak.VectorBits} bits (Vector<float>: {Vector<float>.Count} lanes)");
        yield return ("FMA", Fma.IsSupported ? "yes (x86 FMA3)" : AdvSimd.IsSupported ? "yes (Arm AdvSIMD)" : "no");
        if (RuntimeInformation.ProcessArchitecture is Architecture.X64 or Architecture.X86)
            yield return ("AVX2 / AVX-512F", $"{YesNo(Avx2.IsSupported)} / {YesNo(Avx512F.IsSupported)}");
        yield return ("CUDA devices", DescribeCuda());
        if (skipPeak)
            yield return ("FMA peak", "not measured (--no-peak)");
        else
            yield return ($"FMA peak float32 ({threads} thread{(threads == 1 ? "" : "s")})", $"{MachinePeak.MeasureGflops(threads):F1} GFLOP/s (measured)");
    }

    /// <summary>The CUDA device the GPU backend would use, or why there is none (the backend probes without throwing).</summary>
    private static string DescribeCuda() => CudaBackend.Describe();

    private static string YesNo(bool value) => value ? "yes" : "no";

    /// <summary>A Spectre console on the invocation's output, plain text unless that output is the real terminal.</summary>
    private static IAnsiConsole CreateConsole(TextWriter output)
    {
        bool terminal = ReferenceEquals(output, Console.Out) && !Console.IsOutputRedirected;
        return AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(output),
            Ansi = terminal ? AnsiSupport.Detect : AnsiSupport.No,
            ColorSystem = terminal ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.No,
        });
    }
}
