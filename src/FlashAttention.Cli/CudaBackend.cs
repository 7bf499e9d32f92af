using FlashAttention.Cuda;
using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;

namespace FlashAttention.Cli;

/// <summary>
/// The GPU (FlashAttention.Cuda): every option of the CPU backend, forward and backward, fp16, bf16 and fp32 storage
/// (fp32 is rounded once to fp16 on the device and computed on fp16 tensor cores), head dims that are multiples of 8 up
/// to 256. Each call copies the inputs to the device, runs the kernels and copies the results back; the device buffers
/// live for the call. A machine without a usable CUDA device gets a <see cref="CliException"/> (exit 2).
/// </summary>
internal sealed class CudaBackend : IAttentionBackend, IDisposable
{
    private readonly CudaAttention _cuda;

    private CudaBackend(CudaAttention cuda) => _cuda = cuda;

    /// <summary>Opens the first CUDA device, or throws a <see cref="CliException"/> (exit 2) saying there is none.</summary>
    public static CudaBackend Open()
    {
        if (!CudaAttention.IsAvailable)
            throw new CliException($"--device cuda: the CUDA backend is not available: {CudaAttention.UnavailableReason}; use --device cpu.");
        try
        {
            return new CudaBackend(new CudaAttention());
        }
        catch (CudaNotAvailableException e)
        {
            throw new CliException($"--device cuda: the CUDA backend is not available: {e.Message.ReplaceLineEndings(" ")}; use --device cpu.");
        }
    }

    /// <summary>The GPU kernels' one limit that only the loaded q decides: the head dim.</summary>
    /// <param name="geometry">The loaded call's sizes.</param>
    public static void CheckHeadDim(AttentionGeometry geometry)
    {
        int d = geometry.Shape.HeadDim;
        if (!CudaAttention.SupportsHeadDim(d))
            throw new CliException($"--q: head dim {d} is not supported on --device cuda (multiples of 8 up to {CudaAttention.MaxHeadDim}); use --device cpu.");
    }

    /// <inheritdoc />
    public string Name => "cuda (" + _cuda.Accelerator.Name + ")";

    /// <inheritdoc />
    public void Forward<T>(AttentionGeometry geometry, AttentionOptions options, T[] q, T[] k, T[] v, T[] output, float[] lse, float[]? softmax)
        where T : unmanaged
    {
        CheckHeadDim(geometry);
        var acc = _cuda.Accelerator;
        using var dq = Upload(acc, q);
        using var dk = Upload(acc, k);
        using var dv = Upload(acc, v);
        using var dout = acc.Allocate1D<T>(Math.Max(1, output.Length));
        using var dlse = acc.Allocate1D<float>(Math.Max(1, lse.Length));
        using var dp = acc.Allocate1D<float>(Math.Max(1, softmax?.Length ?? 0));
        Guard(() =>
        {
            var p = softmax is null ? default : View(dp, softmax.Length);
            if (geometry.Layout is VarlenLayout layout)
                _cuda.ForwardVarlen(layout, View(dq, q.Length), View(dk, k.Length), View(dv, v.Length), View(dout, output.Length),
                    View(dlse, lse.Length), options, p);
            else if (softmax is not null)
                _cuda.Forward(geometry.Shape, View(dq, q.Length), View(dk, k.Length), View(dv, v.Length), View(dout, output.Length),
                    View(dlse, lse.Length), p, options);
            else
                _cuda.Forward(geometry.Shape, View(dq, q.Length), View(dk, k.Length), View(dv, v.Length), View(dout, output.Length),
                    View(dlse, lse.Length), options);
        });
        Download(dout, output);
        Download(dlse, lse);
        if (softmax is not null)
            Download(dp, softmax);
        _cuda.Synchronize();
    }

    /// <inheritdoc />
    public void Backward<T>(AttentionGeometry geometry, AttentionOptions options, T[] q, T[] k, T[] v, T[] output, float[] lse, T[] dOutput,
        T[] dq, T[] dk, T[] dv)
        where T : unmanaged
    {
        CheckHeadDim(geometry);
        var acc = _cuda.Accelerator;
        using var bq = Upload(acc, q);
        using var bk = Upload(acc, k);
        using var bv = Upload(acc, v);
        using var bo = Upload(acc, output);
        using var blse = Upload(acc, lse);
        using var bdo = Upload(acc, dOutput);
        using var bdq = acc.Allocate1D<T>(Math.Max(1, dq.Length));
        using var bdk = acc.Allocate1D<T>(Math.Max(1, dk.Length));
        using var bdv = acc.Allocate1D<T>(Math.Max(1, dv.Length));
        Guard(() =>
        {
            if (geometry.Layout is VarlenLayout layout)
                _cuda.BackwardVarlen(layout, View(bq, q.Length), View(bk, k.Length), View(bv, v.Length), View(bo, output.Length),
                    View(blse, lse.Length), View(bdo, dOutput.Length), View(bdq, dq.Length), View(bdk, dk.Length), View(bdv, dv.Length), options);
            else
                _cuda.Backward(geometry.Shape, View(bq, q.Length), View(bk, k.Length), View(bv, v.Length), View(bo, output.Length),
                    View(blse, lse.Length), View(bdo, dOutput.Length), View(bdq, dq.Length), View(bdk, dk.Length), View(bdv, dv.Length), options);
        });
        Download(bdq, dq);
        Download(bdk, dk);
        Download(bdv, dv);
        _cuda.Synchronize();
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

    private static void Download<T>(MemoryBuffer1D<T, Stride1D.Dense> buffer, T[] target) where T : unmanaged
    {
        if (target.Length > 0)
            buffer.View.SubView(0, target.Length).CopyToCPU(target);
    }

    /// <summary>What the GPU cannot do is a usage error naming the device; argument errors pass through to the tool's handler.</summary>
    private static void Guard(Action call)
    {
        try
        {
            call();
        }
        catch (NotSupportedException e)
        {
            throw new CliException("--device cuda: " + e.Message.ReplaceLineEndings(" "));
        }
    }

    /// <summary>The device name and what the backend runs, for <c>flashattn info</c>; never throws.</summary>
    public static string Describe()
    {
        if (!CudaAttention.IsAvailable)
            return $"none usable: {CudaAttention.UnavailableReason}";
        try
        {
            using var cuda = new CudaAttention();
            var acc = (CudaAccelerator)cuda.Accelerator;
            return $"{acc.Name}, {acc.NumMultiprocessors} SMs, {acc.Architecture}; --device cuda: forward and backward, fp16/bf16/fp32, " +
                   $"head dims ≤ {CudaAttention.MaxHeadDim} (multiples of 8; kernels for {string.Join("/", CudaAttention.KernelHeadDims)})";
        }
        catch (Exception e)
        {
            return $"none usable: {e.Message.ReplaceLineEndings(" ")}";
        }
    }

    /// <summary>Releases the device.</summary>
    public void Dispose() => _cuda.Dispose();
}
