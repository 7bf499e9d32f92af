using System.Runtime.InteropServices;
using System.Text;
using ILGPU.Runtime.Cuda;

namespace FlashAttention.Cuda.Ptx;

/// <summary>
/// A PTX module loaded into the current CUDA context through the driver API (ILGPU's <see cref="CudaAPI"/> bindings, plus
/// cuFuncSetAttribute/cuFuncGetAttribute, which ILGPU does not bind): JIT with the driver's info log (registers, spills),
/// a raised dynamic shared-memory limit, and launches with one by-value parameter struct.
/// </summary>
internal sealed unsafe class CudaModule : IDisposable
{
    private const int JitInfoLogBuffer = 3, JitInfoLogBufferSize = 4, JitErrorLogBuffer = 5, JitErrorLogBufferSize = 6, JitLogVerbose = 12;
    private const int AttrMaxThreadsPerBlock = 0, AttrLocalSizeBytes = 3, AttrNumRegs = 4, AttrMaxDynamicSharedBytes = 8, AttrCarveout = 9;

    private IntPtr _module;

    private CudaModule(IntPtr module, IntPtr function, string entry, string jitLog)
    {
        _module = module;
        Function = function;
        Entry = entry;
        JitLog = jitLog;
    }

    /// <summary>The kernel's function handle.</summary>
    public IntPtr Function { get; }

    /// <summary>Entry point name.</summary>
    public string Entry { get; }

    /// <summary>The driver JIT's verbose info log (ptxas "Used N registers, … spill …" lines).</summary>
    public string JitLog { get; }

    /// <summary>Registers per thread, as compiled by the driver.</summary>
    public int Registers => GetAttribute(AttrNumRegs);

    /// <summary>Local memory (stack frame and spills) per thread, in bytes.</summary>
    public int LocalBytes => GetAttribute(AttrLocalSizeBytes);

    /// <summary>The most threads per block the compiled kernel allows.</summary>
    public int MaxThreadsPerBlock => GetAttribute(AttrMaxThreadsPerBlock);

    /// <summary>JIT-compiles <paramref name="ptx"/> in the current context and looks up <paramref name="entry"/>.</summary>
    public static CudaModule Load(string ptx, string entry)
    {
        const int LogSize = 1 << 16;
        var info = new byte[LogSize];
        var error = new byte[LogSize];
        var options = stackalloc int[5] { JitInfoLogBuffer, JitInfoLogBufferSize, JitErrorLogBuffer, JitErrorLogBufferSize, JitLogVerbose };
        fixed (byte* pInfo = info, pError = error)
        {
            var values = stackalloc IntPtr[5] { (IntPtr)pInfo, LogSize, (IntPtr)pError, LogSize, 1 };
            var status = CudaAPI.CurrentAPI.LoadModule(out var module, ptx, 5, (IntPtr)options, (IntPtr)values);
            if (status != CudaError.CUDA_SUCCESS)
                throw new CudaBackendException($"The CUDA driver could not load the PTX of {entry}: {Describe(status)}. JIT log: {Text(error)} {Text(info)}");
            Check(CudaAPI.CurrentAPI.GetModuleFunction(out var function, module, entry), $"cuModuleGetFunction({entry})");
            return new CudaModule(module, function, entry, Text(info));
        }
    }

    /// <summary>Allows <paramref name="bytes"/> of dynamic shared memory per block (above the default 48 KiB) and prefers shared memory over L1.</summary>
    public void SetDynamicSharedMemory(int bytes)
    {
        Check(Driver.FuncSetAttribute(Function, AttrMaxDynamicSharedBytes, bytes), "cuFuncSetAttribute(MAX_DYNAMIC_SHARED_SIZE_BYTES)");
        Check(Driver.FuncSetAttribute(Function, AttrCarveout, 100), "cuFuncSetAttribute(PREFERRED_SHARED_MEMORY_CARVEOUT)");
    }

    /// <summary>Thread blocks of <paramref name="threads"/> threads with <paramref name="sharedBytes"/> that fit on one multiprocessor.</summary>
    public int BlocksPerMultiprocessor(int threads, int sharedBytes)
    {
        Check(CudaAPI.CurrentAPI.ComputeOccupancyMaxActiveBlocksPerMultiprocessor(out int blocks, Function, threads, new IntPtr(sharedBytes)),
            "cuOccupancyMaxActiveBlocksPerMultiprocessor");
        return blocks;
    }

    /// <summary>Enqueues the kernel on <paramref name="stream"/> with <paramref name="parameters"/> as its single by-value parameter.</summary>
    public void Launch<TParams>(IntPtr stream, (int X, int Y, int Z) grid, int threads, int sharedBytes, TParams parameters)
        where TParams : unmanaged
    {
        var args = stackalloc IntPtr[1];
        args[0] = (IntPtr)(&parameters);
        Check(CudaAPI.CurrentAPI.LaunchKernel(Function, grid.X, grid.Y, grid.Z, threads, 1, 1, sharedBytes, stream, (IntPtr)args, IntPtr.Zero),
            $"cuLaunchKernel({Entry}, grid {grid}, {threads} threads, {sharedBytes} B shared)");
    }

    /// <summary>Makes <paramref name="stream"/> wait until <paramref name="cudaEvent"/> (recorded on another stream) has happened.</summary>
    public static void StreamWaitEvent(IntPtr stream, IntPtr cudaEvent) =>
        Check(Driver.StreamWaitEvent(stream, cudaEvent), "cuStreamWaitEvent");

    /// <summary>Enqueues the kernel with two by-value parameters (the attention kernels: parameters and the caller's modifiers).</summary>
    public void Launch<TParams, TMods>(IntPtr stream, (int X, int Y, int Z) grid, int threads, int sharedBytes, TParams parameters, TMods mods)
        where TParams : unmanaged
        where TMods : unmanaged
    {
        var args = stackalloc IntPtr[2];
        args[0] = (IntPtr)(&parameters);
        args[1] = (IntPtr)(&mods);
        Check(CudaAPI.CurrentAPI.LaunchKernel(Function, grid.X, grid.Y, grid.Z, threads, 1, 1, sharedBytes, stream, (IntPtr)args, IntPtr.Zero),
            $"cuLaunchKernel({Entry}, grid {grid}, {threads} threads, {sharedBytes} B shared)");
    }

    private int GetAttribute(int attribute)
    {
        int value;
        Check(Driver.FuncGetAttribute(&value, attribute, Function), "cuFuncGetAttribute");
        return value;
    }

    internal static void Check(CudaError status, string what)
    {
        if (status != CudaError.CUDA_SUCCESS)
            throw new CudaBackendException($"{what} failed: {Describe(status)}.");
    }

    internal static void Check(int status, string what) => Check((CudaError)status, what);

    private static string Describe(CudaError status)
    {
        string? text = null;
        try
        {
            text = CudaAPI.CurrentAPI.GetErrorString(status);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
        }
        return $"{status} ({(int)status}){(string.IsNullOrEmpty(text) ? "" : ": " + text)}";
    }

    private static string Text(byte[] buffer)
    {
        int length = Array.IndexOf(buffer, (byte)0);
        return Encoding.UTF8.GetString(buffer, 0, length < 0 ? buffer.Length : length).Trim();
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (_module != IntPtr.Zero)
        {
            CudaAPI.CurrentAPI.DestroyModule(_module);
            _module = IntPtr.Zero;
        }
    }

    /// <summary>Driver entry points ILGPU does not bind, resolved from libcuda at first use.</summary>
    private static class Driver
    {
        private static readonly IntPtr Library = NativeLibrary.Load(OperatingSystem.IsWindows() ? "nvcuda.dll" : "libcuda.so.1");

        private static readonly delegate* unmanaged<IntPtr, int, int, int> SetAttribute =
            (delegate* unmanaged<IntPtr, int, int, int>)NativeLibrary.GetExport(Library, "cuFuncSetAttribute");

        private static readonly delegate* unmanaged<int*, int, IntPtr, int> GetAttribute =
            (delegate* unmanaged<int*, int, IntPtr, int>)NativeLibrary.GetExport(Library, "cuFuncGetAttribute");

        public static int FuncSetAttribute(IntPtr function, int attribute, int value) => SetAttribute(function, attribute, value);

        public static int FuncGetAttribute(int* value, int attribute, IntPtr function) => GetAttribute(value, attribute, function);

        private static readonly delegate* unmanaged<IntPtr, IntPtr, uint, int> WaitEvent =
            (delegate* unmanaged<IntPtr, IntPtr, uint, int>)NativeLibrary.GetExport(Library, "cuStreamWaitEvent");

        public static int StreamWaitEvent(IntPtr stream, IntPtr cudaEvent) => WaitEvent(stream, cudaEvent, 0);
    }
}
