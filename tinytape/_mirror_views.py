"""Conjugate and negative views (``x.conj()``, ``x._neg_view()``): views of ``x`` whose
elements are ``conj(x)`` / ``-x``, as PyTorch's lazy conjugate and negative bits.

numpy cannot express a conjugated or negated view with strides, so such a view holds its
values in a buffer of its own (a *mirror*) and shares ``x``'s version counter: whenever a
write bumps that counter, the mirror is brought back in line: a write through the mirror (or
a view of it) is written, transformed back, into ``x``'s memory, and a write into ``x``'s
memory refreshes the mirrors.  So reads and writes through either side see each other, as
they do through PyTorch's shared storage."""
import weakref

import numpy as np

MIRRORED = {}  # id(version counter) -> [weak reference of each mirror sharing it], oldest first
_INFO = {}  # id(mirror) -> (weak reference of the mirror, its source tensor, "conj" or "neg")
_TRANSFORMS = {"conj": np.conj, "neg": np.negative}


def register(mirror, source, kind):
    """Make ``mirror`` (whose buffer holds ``kind`` of ``source``'s values) follow ``source``."""
    key, counter_key = id(mirror), id(mirror._version_counter)

    def forget(ref):
        _INFO.pop(key, None)
        refs = MIRRORED.get(counter_key)
        if refs is not None:
            refs[:] = [r for r in refs if r is not ref]
            if not refs:
                MIRRORED.pop(counter_key, None)
    ref = weakref.ref(mirror, forget)
    _INFO[key] = (ref, source, kind)
    MIRRORED.setdefault(counter_key, []).append(ref)


def mirror_of(t):
    """(source, kind) where ``t`` is a mirror, else None."""
    info = _INFO.get(id(t))
    return info[1:] if info is not None and info[0]() is t else None


def bits(t):
    """``(conjugated, negated)``: the bits of ``t``, a mirror or a view taken of one (whose
    memory lies in the mirror's buffer), as PyTorch's views keep the bits of what they view."""
    start = t
    while _INFO and t is not None:
        info = mirror_of(t)
        if info is not None:
            if t is not start and not np.may_share_memory(start._data, t._data):
                return False, False  # (a view of the source's memory, as ``c.conj()``)
            source, kind = info
            conj_bit, neg_bit = bits(source)
            conj_bit, neg_bit = (not conj_bit, neg_bit) if kind == "conj" else (conj_bit, not neg_bit)
            if start._data.dtype.kind != "c" and t._data.dtype.kind == "c":
                # real numbers of a complex view's values: conjugated, the imaginary ones are negated
                offset = start._data.__array_interface__["data"][0] - t._data.__array_interface__["data"][0]
                return False, neg_bit != (conj_bit and offset % t._data.itemsize != 0)
            return conj_bit, neg_bit
        t = t._view[0] if t._view is not None else None
    return False, False


def after_write(t):
    """Bring the mirrors sharing ``t``'s version counter in line after a write into ``t``."""
    refs = MIRRORED.get(id(t._version_counter))
    if not refs:
        return
    mirrors = [m for m in (r() for r in refs) if m is not None and m._version_counter is t._version_counter]
    if mirrors:  # (numpy's writes, through ``host_compute``: a trace refuses them and runs the step eagerly)
        t._backend.host_compute(lambda data: _bring_in_line(t, mirrors), t._data)


def _bring_in_line(t, mirrors):
    written = [t._data]
    pushed = set()
    for m in reversed(mirrors):  # (newest first: a mirror of a mirror passes its write on down)
        if any(np.may_share_memory(m._data, w) for w in written):
            source, kind = _INFO[id(m)][1:]
            source._data[...] = _TRANSFORMS[kind](m._data)
            written.append(source._data)
            pushed.add(id(m))
    for m in mirrors:  # (oldest first: each from a source already in line)
        if id(m) not in pushed:
            source, kind = _INFO[id(m)][1:]
            m._data[...] = _TRANSFORMS[kind](source._data)


def keep_bits(t, alias):
    """``alias`` (over ``t``'s memory: ``detach()``, ``.data``), following the same source as ``t``
    where ``t`` is a mirror."""
    info = mirror_of(t) if MIRRORED else None
    if info is not None:
        register(alias, *info)
    return alias


def refuse_numpy(t):
    """numpy can share no conjugate or negative view's memory: PyTorch's refusal."""
    conj_bit, neg_bit = bits(t)
    if conj_bit:
        raise RuntimeError("Can't call numpy() on Tensor that has conjugate bit set. Use tensor.resolve_conj().numpy() "
                           "instead.")
    if neg_bit:
        raise RuntimeError("Can't call numpy() on Tensor that has negative bit set. Use tensor.resolve_neg().numpy() "
                           "instead.")
