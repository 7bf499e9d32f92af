using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;
using FlashAttention.Cuda.Kernels;
using FlashAttention.Cuda.KernelGen;
using FlashAttention.Cuda.Ptx;
using Xunit;

namespace FlashAttention.Cuda.Tests;

/// <summary>The kernels compile to the PTX we intend, without a GPU (ILGPU's PTX backend).</summary>
public class PtxGenerationTests
{
    public static TheoryData<string, string> Kernels()
    {
        var data = new TheoryData<string, string>();
        foreach (var variant in ForwardKernels.Variants)
        {
            data.Add(variant.Name, "fp16");
            data.Add(variant.Name, "bf16");
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Kernels))]
    public void KernelCompilesToTensorCorePtxWithoutLocalMemory(string name, string type)
    {
        var variant = ForwardVariant.Find(name);
        var (ptx, entry) = CompiledKernels.Get(variant, CompiledKernels.Kind(type), typeof(PositiveScale));

        Assert.Equal("Kernel_" + name, entry);
        Assert.Contains($".extern .shared .align 16 .b8 {PtxOps.SharedArrayName}[];", ptx);
        Assert.Contains($".maxntid {variant.Threads}, 1, 1", ptx);
        string mma = $"mma.sync.aligned.m16n8k16.row.col.f32.{(type == "fp16" ? "f16.f16" : "bf16.bf16")}.f32";
        int mmas = Regex.Matches(ptx, Regex.Escape(mma)).Count;
        // S = Q·Kᵀ and O += P·V: each (16 rows × 8 columns × 16 depth) step of both products, once per m-tile.
        int mTiles = variant.BlockM / (variant.Threads / 32) / 16;
        // Kernels with tail-sized steps (_TT) also hold a copy of the step for 16, 32, … keys short of a whole tile.
        int keysInSteps = variant.BlockN + (name.EndsWith("_TT", StringComparison.Ordinal)
            ? Enumerable.Range(1, variant.BlockN / 16 - 1).Sum(i => 16 * i)
            : 0);
        Assert.Equal(mTiles * 2 * (keysInSteps / 8) * (variant.HeadDim / 16), mmas);
        Assert.Contains("ldmatrix.sync.aligned.m8n8.x4.shared.b16", ptx);
        Assert.Contains("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16", ptx);
        Assert.Contains("cp.async.cg.shared.global", ptx);
        Assert.Contains("ex2.approx.ftz.f32", ptx);
        // Everything stays in registers: no local memory, no calls, no leftover intrinsic stubs.
        Assert.DoesNotContain(".local", ptx);
        Assert.DoesNotMatch(@"\bcall", ptx);
        Assert.DoesNotContain(".func", ptx);
    }

    [Fact]
    public void NegativeScaleKernelUsesMinimum()
    {
        var variant = CudaAttention.DefaultVariant(64);
        var (positive, _) = CompiledKernels.Get(variant, typeof(Fp16Kind), typeof(PositiveScale));
        var (negative, _) = CompiledKernels.Get(variant, typeof(Fp16Kind), typeof(NegativeScale));
        Assert.DoesNotContain("min.f32", positive);
        Assert.Contains("min.f32", negative);
    }

    [Fact]
    public void ParameterStructMatchesTheKernelsParameterLayout()
    {
        // The kernel reads its parameter struct field by field; the offsets ILGPU chose must be those of the C# struct
        // that the host passes by value.
        var (ptx, _) = CompiledKernels.Get(CudaAttention.DefaultVariant(128), typeof(Bf16Kind), typeof(PositiveScale));
        var declared = Regex.Match(ptx, @"\.param \.align 8 \.b8 (\w+)\[(\d+)\]");
        Assert.True(declared.Success);
        Assert.Equal(Marshal.SizeOf<ForwardParams>(), int.Parse(declared.Groups[2].Value));
        var offsets = Regex.Matches(ptx, @"ld\.param\.\w+\s+%\w+, \[" + declared.Groups[1].Value + @"(?:\+(\d+))?\]")
            .Select(m => m.Groups[1].Success ? int.Parse(m.Groups[1].Value) : 0)
            .Order()
            .ToArray();
        var expected = typeof(ForwardParams).GetFields()
            .Select(f => (int)Marshal.OffsetOf<ForwardParams>(f.Name))
            .Order()
            .ToArray();
        Assert.Equal(expected, offsets);
    }

    [Fact]
    public void PatchDeclaresSharedArrayAndDropsStubs()
    {
        const string raw = """
            .version 7.8
            .target sm_80
            .address_size 64

            .visible .func (.param .b32 retval_1) SharedBase_12(

            )
            ;

            .visible .func (.param .f32 retval_2) Exp2_34(
            	.param .f32 _x_35
            )
            {
            	ret;
            }

            .visible .entry Kernel_X(
            	.param .align 8 .b8 _p_1[8]
            )
            {
            	ret;
            }
            """;
        string patched = KernelCompiler.Patch(raw.Replace("\r\n", "\n"));
        Assert.Contains(".extern .shared .align 16 .b8 fa_smem[];", patched);
        Assert.DoesNotContain("SharedBase_12", patched);
        Assert.DoesNotContain("Exp2_34", patched);
        Assert.Contains(".visible .entry Kernel_X(", patched);
    }

    [Fact]
    public void GeneratedSourceIsUpToDate()
    {
        // The repository holds the build output here; on the GPU machine the tests run from a published copy, in the
        // repository's root.
        DirectoryInfo? root = null;
        foreach (var start in new[] { AppContext.BaseDirectory, Environment.CurrentDirectory })
        {
            root = new DirectoryInfo(start);
            while (root is not null && !File.Exists(Path.Combine(root.FullName, "FlashAttention.slnx")))
                root = root.Parent;
            if (root is not null)
                break;
        }
        Assert.NotNull(root);
        foreach (var (path, generate) in GeneratedFiles.All)
        {
            string checkedIn = File.ReadAllText(Path.Combine(root.FullName, path)).Replace("\r\n", "\n");
            Assert.True(checkedIn == generate(),
                $"{path} differs from the generator's output: run `dotnet run --project tools/FlashAttention.Cuda.KernelGen`.");
        }
    }

    [Fact]
    public void VariantTableMatchesGeneratorConfigs()
    {
        Assert.Equal(ForwardKernelGenerator.Configs.Select(c => c.Name), ForwardKernels.Variants.Select(v => v.Name));
        foreach (var (config, variant) in ForwardKernelGenerator.Configs.Zip(ForwardKernels.Variants))
        {
            Assert.Equal(config.Threads, variant.Threads);
            Assert.Equal(config.BlockM, variant.BlockM);
            Assert.Equal(config.SharedBytes, variant.SharedBytes);
            Assert.True(variant.SharedBytes <= 227 * 1024, $"{variant.Name} needs more shared memory than a Hopper/Ampere block may have.");
        }
        foreach (int d in CudaAttention.KernelHeadDims)
        {
            Assert.Equal(d, CudaAttention.DefaultVariant(d).HeadDim);
            Assert.Equal(d, CudaAttention.DefaultVariant(d, dropout: true).HeadDim);
            Assert.Equal(d, CudaAttention.DefaultVariant(d, alibi: true).HeadDim);
            Assert.Equal(d, CudaAttention.DefaultVariant(d, dropout: true, alibi: true).HeadDim);
        }
        // Dropout kernels keep no score tile alive across P·V (no lazy rescale) where the head dim has a choice.
        foreach (int d in new[] { 64, 96, 128 })
            Assert.DoesNotContain("_LR", CudaAttention.DefaultVariant(d, dropout: true).Name);
    }

    /// <summary>
    /// ptxas (from FLASHATTN_PTXAS or PATH) assembles every default forward kernel for sm_80. Spills are not asserted:
    /// the assembler on a developer machine (CUDA 11.8 here) allocates registers differently from the driver JIT that
    /// runs the kernels, and the JIT's figures are the ones recorded (docs/gpu-notes.md, the probe's JIT report).
    /// </summary>
    [PtxasFact]
    public void PtxasAssemblesDefaultKernels()
    {
        foreach (int d in CudaAttention.KernelHeadDims)
            foreach (var kind in new[] { typeof(Fp16Kind), typeof(Bf16Kind) })
            {
                var (ptx, _) = CompiledKernels.Get(CudaAttention.DefaultVariant(d), kind, typeof(PositiveScale));
                string file = Path.Combine(Path.GetTempPath(), $"fa-{Guid.NewGuid():N}.ptx");
                File.WriteAllText(file, ptx);
                try
                {
                    var info = new ProcessStartInfo(Ptxas.Path!, $"-arch=sm_80 -v \"{file}\" -o \"{file}.cubin\"")
                    {
                        RedirectStandardError = true,
                        RedirectStandardOutput = true,
                    };
                    using var process = Process.Start(info)!;
                    string log = process.StandardError.ReadToEnd() + process.StandardOutput.ReadToEnd();
                    process.WaitForExit();
                    Assert.True(process.ExitCode == 0, log);
                    Assert.Contains("Used", log);
                }
                finally
                {
                    File.Delete(file);
                    File.Delete(file + ".cubin");
                }
            }
    }
}
