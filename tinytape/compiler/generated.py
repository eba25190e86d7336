"""The generated modules of the fused replay, written into the kernel cache directory
(named by a hash of the source, under a directory named by the versions and the op table)
and imported, so numba's ``cache=True`` finds their machine code in a second process."""
import hashlib
import importlib.util
import os
import sys
import threading


# LLVM's inliner takes a call as cold, and inlines only the cheapest callees there, where
# its static estimate of the block's frequency is under 2% of the function's entry; in a
# generated function every numba call before a loop (each checks a returned status) lowers
# that estimate, so the loops after a few of them called the per-element functions (the
# sleef exp of a sigmoid or tanh) instead of inlining them, and ran scalar (the GRU's time
# step: 116 us, vectorised 64 us).  With the option at 0 no call is cold by estimate alone;
# it is an option of the process's LLVM, set when the first generated function is loaded.
LLVM_OPTIONS = ("-cold-callsite-rel-freq=0",)
_llvm_options_set = False


def _set_llvm_options():
    global _llvm_options_set
    if not _llvm_options_set:
        import llvmlite.binding as llvm
        for option in LLVM_OPTIONS:
            llvm.set_option("tinytape", option)
        _llvm_options_set = True


def _load(source):
    from ..backend.cpu._cache import cache_root
    _set_llvm_options()
    digest = hashlib.sha1(source.encode()).hexdigest()[:16]
    directory = os.path.join(cache_root(), "compiled")
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, f"step_{digest}.py")
    if not os.path.exists(path):  # numba's cache index is keyed by the file's timestamp
        tmp = f"{path}.{os.getpid()}.{threading.get_ident()}.tmp"  # (the fusing thread writes too)
        with open(tmp, "w") as f:
            f.write(source)
        os.replace(tmp, path)
    name = f"tinytape_compiled_{digest}"
    module = sys.modules.get(name)
    if module is None:
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        sys.modules[name] = module
    return module.kernel
