namespace FlashAttention.Cuda;

/// <summary>Thrown when the CUDA backend is asked for but no usable NVIDIA GPU or CUDA driver is present.</summary>
public sealed class CudaNotAvailableException : InvalidOperationException
{
    /// <summary>Creates the exception.</summary>
    public CudaNotAvailableException()
        : base("No CUDA device is available.") { }

    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">What was looked for and not found.</param>
    public CudaNotAvailableException(string message)
        : base(message) { }

    /// <summary>Creates the exception with a message and its cause.</summary>
    /// <param name="message">What was looked for and not found.</param>
    /// <param name="innerException">The failure that revealed it.</param>
    public CudaNotAvailableException(string message, Exception innerException)
        : base(message, innerException) { }
}

/// <summary>Thrown when the CUDA driver rejects a module or a launch (the message carries the driver's error and log).</summary>
public sealed class CudaBackendException : Exception
{
    /// <summary>Creates the exception.</summary>
    public CudaBackendException()
        : base("The CUDA driver reported an error.") { }

    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">The failing call and the driver's error.</param>
    public CudaBackendException(string message)
        : base(message) { }

    /// <summary>Creates the exception with a message and its cause.</summary>
    /// <param name="message">The failing call and the driver's error.</param>
    /// <param name="innerException">The underlying failure.</param>
    public CudaBackendException(string message, Exception innerException)
        : base(message, innerException) { }
}
