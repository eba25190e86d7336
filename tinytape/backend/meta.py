"""The meta device: tensors with a shape, a dtype and a device but no data to read.

Its tensors are computed as the CPU's are (their values exist, but nothing lets them out:
printing, ``item``, ``tolist``, ``numpy`` and copies to another device refuse, in PyTorch's
words), so every op's shapes, dtypes and errors on the meta device are the CPU's."""
from .._dtype import device
from .cpu.backend import CPUBackend

NO_DATA = "Cannot copy out of meta tensor; no data!"


class MetaBackend(CPUBackend):
    device = device("meta")

    @staticmethod
    def to_numpy(x):
        raise NotImplementedError(NO_DATA)

    def host_values(self, x):  # the values, for the library's own shape work only
        return CPUBackend.to_numpy(x)


meta = MetaBackend()
