using FlashAttention.Cuda.Kernels;
using ILGPU;
using ILGPU.Runtime;

namespace FlashAttention.Cuda;

/// <summary>
/// What the attention kernels read: 16-bit tensors. float32 storage is rounded once to fp16 here; cosine attention's
/// q and k are L2-normalised here (per group), and its gradients go back through the normalisation afterwards.
/// </summary>
public sealed partial class CudaAttention
{
    /// <summary>The device addresses of the 16-bit q, k, v (and dO) the kernels read, with their ranges.</summary>
    private readonly record struct KernelInputs(ulong Q, ulong K, ulong V, ulong DO, (ulong Address, long Bytes)[] Ranges);

    /// <summary>
    /// The caller's tensors when they already are what the kernels read; otherwise converted (float32 → fp16) or
    /// normalised (cosine, <see cref="AttentionOptions.L2NormalizeQK"/>) copies in this instance's buffers: O(N) memory,
    /// enqueued before the kernels on the same stream. <paramref name="dOutput"/> is empty for the forward pass.
    /// </summary>
    private KernelInputs PrepareInputs<T>(AttentionProblem problem, ArrayView1D<T, Stride1D.Dense> q, ArrayView1D<T, Stride1D.Dense> k,
        ArrayView1D<T, Stride1D.Dense> v, ArrayView1D<T, Stride1D.Dense> dOutput)
        where T : unmanaged
    {
        bool floatStorage = typeof(T) == typeof(float);
        bool normalize = problem.Variant == AttentionVariant.Cosine && problem.L2Normalize;
        var ranges = new List<(ulong, long)> { Range(q), Range(k), Range(v), Range(dOutput) };
        var kind = ElementKind<T>();

        ulong Half(string name, ArrayView1D<T, Stride1D.Dense> source, long rows, bool l2)
        {
            if (source.Length == 0)
                return 0;
            if (!floatStorage && !l2)
                return Address(source);
            var target = Scratch<ushort>(name, source.Length);
            ranges.Add(Range(target));
            var parameters = new TensorParams
            {
                Source = Address(source), Target = Address(target), Count = l2 ? rows : source.Length, Dim = problem.HeadDim,
                Groups = problem.CosineGroups, SourceFloat = floatStorage ? 1 : 0,
            };
            var rangeArray = new[] { Range(source), Range(target) };
            if (l2)
            {
                var kernel = GetKernel(typeof(TensorKernels).GetMethod(nameof(TensorKernels.Normalize))!.MakeGenericMethod(kind),
                    "Normalize", TensorKernels.Threads, 0);
                Launch(kernel, (Blocks(rows, TensorKernels.Threads / 32), 1, 1), parameters, rangeArray);
            }
            else
            {
                var kernel = GetKernel(typeof(TensorKernels).GetMethod(nameof(TensorKernels.ToHalf))!, "ToHalf", TensorKernels.Threads, 0);
                Launch(kernel, (Blocks(source.Length / 2, TensorKernels.Threads), 1, 1), parameters, rangeArray);
            }
            return Address(target);
        }

        return new KernelInputs(
            Half("in.q", q, (long)problem.TotalQ * problem.Heads, normalize),
            Half("in.k", k, (long)problem.TotalK * problem.KvHeads, normalize),
            Half("in.v", v, 0, false),
            Half("in.do", dOutput, 0, false),
            [.. ranges]);
    }

    /// <summary>dx = the gradient through x̂ = x / max(‖x_g‖, ε), from the float32 gradient of x̂ (cosine attention's chain rule).</summary>
    private void NormalizeBackward<T>(Type kind, ArrayView1D<float, Stride1D.Dense> gradHat, ArrayView1D<T, Stride1D.Dense> raw,
        ArrayView1D<T, Stride1D.Dense> target, long rows, AttentionProblem problem)
        where T : unmanaged
    {
        if (rows == 0)
            return;
        bool floatStorage = typeof(T) == typeof(float);
        var kernel = GetKernel(typeof(TensorKernels).GetMethod(nameof(TensorKernels.NormalizeBackward))!.MakeGenericMethod(kind),
            "NormalizeBackward", TensorKernels.Threads, 0);
        var parameters = new TensorParams
        {
            Source = Address(gradHat), Target = Address(target), Raw = Address(raw), Count = rows, Dim = problem.HeadDim,
            Groups = problem.CosineGroups, RawFloat = floatStorage ? 1 : 0, TargetFloat = floatStorage ? 1 : 0,
        };
        Launch(kernel, (Blocks(rows, TensorKernels.Threads / 32), 1, 1), parameters, [Range(gradHat), Range(raw), Range(target)]);
    }

    private static int Blocks(long items, int perBlock)
    {
        long blocks = (items + perBlock - 1) / perBlock;
        if (blocks > int.MaxValue)
            throw new NotSupportedException($"The tensor has too many rows for one launch ({items}).");
        return (int)blocks;
    }
}
