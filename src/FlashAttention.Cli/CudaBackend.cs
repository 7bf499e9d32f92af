using FlashAttention.Cuda;
using ILGPU;
using ILGPU.Runtime;

namespace FlashAttention.Cli;

/// <summary>
/// The GPU (FlashAttention.Cuda): forward pass only, fp16 and bf16 storage, head dims 64 and 128. Each call copies the
/// inputs to the device, runs the kernel, and copies the output and LSE back; the device buffers live for the call.
/// What the GPU kernels do not implement is refused with a <see cref="CliException"/> naming the flag (exit 2), checked
/// before any file is read where the flags alone decide it.
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

    /// <summary>
    /// Refuses, by flag name, what the GPU forward does not implement. fp32 is refused rather than converted silently:
    /// the kernels compute on 16-bit tensor cores, and <c>--dtype fp16|bf16</c> already rounds fp32 files once on load.
    /// </summary>
    /// <param name="settings">The parsed flags.</param>
    /// <param name="softmaxRequested">Whether <c>--softmax</c> was given.</param>
    public static void CheckFlags(AttentionSettings settings, bool softmaxRequested)
    {
        if (settings.Packed)
            throw new CliException("--cu-seqlens-q: packed variable-length inputs are not supported on --device cuda yet; use --device cpu.");
        if (settings.Options.Variant != AttentionVariant.Softmax)
            throw new CliException("--variant cosine: the cosine variant is not supported on --device cuda yet; use --device cpu.");
        if (softmaxRequested)
            throw new CliException("--softmax: returning the probabilities is not supported on --device cuda; use --device cpu.");
        if (settings.Dtype == ComputeDtype.Fp32)
            throw new CliException("--dtype: --device cuda computes in fp16 or bf16, not fp32; pass --dtype fp16 or --dtype bf16 (fp32 files are then rounded once on load).");
    }

    /// <inheritdoc />
    public string Name => "cuda (" + _cuda.Accelerator.Name + ")";

    /// <inheritdoc />
    public void Forward<T>(AttentionGeometry geometry, AttentionOptions options, T[] q, T[] k, T[] v, T[] output, float[] lse, float[]? softmax)
        where T : unmanaged
    {
        // The flags were checked before loading; these guard the cases only the loaded inputs decide.
        if (typeof(T) == typeof(float))
            throw new CliException("--dtype: --device cuda computes in fp16 or bf16, not fp32; pass --dtype fp16 or --dtype bf16 (fp32 files are then rounded once on load).");
        if (softmax is not null)
            throw new CliException("--softmax: returning the probabilities is not supported on --device cuda; use --device cpu.");
        if (geometry.Layout is VarlenLayout)
            throw new CliException("--cu-seqlens-q: packed variable-length inputs are not supported on --device cuda yet; use --device cpu.");
        var shape = geometry.Shape;
        if (!CudaAttention.SupportedHeadDims.Contains(shape.HeadDim))
            throw new CliException($"--q: head dim {shape.HeadDim} is not supported on --device cuda (kernels for {string.Join(", ", CudaAttention.SupportedHeadDims)}); use --device cpu.");

        var acc = _cuda.Accelerator;
        using var dq = acc.Allocate1D(q);
        using var dk = acc.Allocate1D(k);
        using var dv = acc.Allocate1D(v);
        using var dout = acc.Allocate1D<T>(output.Length);
        using var dlse = acc.Allocate1D<float>(lse.Length);
        try
        {
            _cuda.Forward(shape, dq.View, dk.View, dv.View, dout.View, dlse.View, options);
        }
        catch (NotSupportedException e)
        {
            throw new CliException("--device cuda: " + e.Message.ReplaceLineEndings(" "));
        }
        dout.View.CopyToCPU(output);
        dlse.View.CopyToCPU(lse);
        _cuda.Synchronize();
    }

    /// <inheritdoc />
    public void Backward<T>(AttentionGeometry geometry, AttentionOptions options, T[] q, T[] k, T[] v, T[] output, float[] lse, T[] dOutput,
        T[] dq, T[] dk, T[] dv)
        where T : unmanaged =>
        throw new CliException("--device cuda: the backward pass is not implemented on the GPU yet; use --device cpu.");

    /// <summary>The device name and what the backend runs, for <c>flashattn info</c>; never throws.</summary>
    public static string Describe()
    {
        if (!CudaAttention.IsAvailable)
            return $"none usable: {CudaAttention.UnavailableReason}";
        try
        {
            using var cuda = new CudaAttention();
            var acc = (ILGPU.Runtime.Cuda.CudaAccelerator)cuda.Accelerator;
            return $"{acc.Name}, {acc.NumMultiprocessors} SMs, {acc.Architecture}; --device cuda: forward, fp16/bf16, head dims {string.Join("/", CudaAttention.SupportedHeadDims)}";
        }
        catch (Exception e)
        {
            return $"none usable: {e.Message.ReplaceLineEndings(" ")}";
        }
    }

    /// <summary>Releases the device.</summary>
    public void Dispose() => _cuda.Dispose();
}
