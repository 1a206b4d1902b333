/* Python bindings of the project's C extension: lipsync_native. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdlib.h>

#include "native.h"

static int use_simd(int asked) { return asked && ls_has_avx2(); }

/* A (h, w, 4) buffer of `itemsize`-byte items, rows at any stride, pixels packed. */
static int get_image(PyObject *obj, Py_buffer *view, int writable, Py_ssize_t itemsize, const char *what) {
    if (PyObject_GetBuffer(obj, view, PyBUF_STRIDES | PyBUF_FORMAT | (writable ? PyBUF_WRITABLE : 0)) < 0)
        return -1;
    if (view->ndim != 3 || view->shape[2] != 4 || view->itemsize != itemsize || view->strides[2] != itemsize ||
        view->strides[1] != 4 * itemsize || view->strides[0] < view->shape[1] * 4 * itemsize ||
        view->shape[0] < 1 || view->shape[1] < 1) {
        PyErr_Format(PyExc_ValueError, "%s must be an (h, w, 4) array of %zd-byte items with packed pixels",
                     what, itemsize);
        PyBuffer_Release(view);
        return -1;
    }
    return 0;
}

static PyObject *encode_png(PyObject *self, PyObject *args, PyObject *kw) {
    static char *names[] = {"pixels", "swap_rb", "simd", NULL};
    PyObject *obj;
    int swap_rb = 0, simd = 1;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "O|pp", names, &obj, &swap_rb, &simd)) return NULL;
    Py_buffer v;
    if (get_image(obj, &v, 0, 1, "pixels") < 0) return NULL;
    if (v.shape[0] > 0x7fffffff || v.shape[1] > 0x3fffffff) {
        PyBuffer_Release(&v);
        return PyErr_Format(PyExc_ValueError, "the image is too large for a PNG");
    }
    uint8_t *png = NULL;
    size_t n;
    Py_BEGIN_ALLOW_THREADS
    n = ls_encode_png(v.buf, (size_t)v.strides[0], (uint32_t)v.shape[1], (uint32_t)v.shape[0], swap_rb,
                      use_simd(simd), &png);
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&v);
    if (!n) return PyErr_NoMemory();
    PyObject *out = PyBytes_FromStringAndSize((const char *)png, (Py_ssize_t)n);
    free(png);
    return out;
}

static PyObject *warp_unpremultiply(PyObject *self, PyObject *args, PyObject *kw) {
    static char *names[] = {"src", "dst", "m", "simd", NULL};
    PyObject *so, *dob;
    double m[6];
    int simd = 1;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "OO(dddddd)|p", names, &so, &dob, m, m + 1, m + 2, m + 3, m + 4,
                                     m + 5, &simd))
        return NULL;
    Py_buffer s, d;
    if (get_image(so, &s, 0, 2, "src") < 0) return NULL;
    if (get_image(dob, &d, 1, 1, "dst") < 0) {
        PyBuffer_Release(&s);
        return NULL;
    }
    if (s.strides[0] % 2) {
        PyBuffer_Release(&s);
        PyBuffer_Release(&d);
        return PyErr_Format(PyExc_ValueError, "src rows must be whole uint16 items apart");
    }
    Py_BEGIN_ALLOW_THREADS
    ls_warp_unpremultiply(s.buf, (size_t)s.strides[0] / 2, (int)s.shape[1], (int)s.shape[0], d.buf,
                          (size_t)d.strides[0], (int)d.shape[1], (int)d.shape[0], m, use_simd(simd));
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&s);
    PyBuffer_Release(&d);
    Py_RETURN_NONE;
}

static PyObject *checksum(PyObject *args, PyObject *kw, unsigned long start, int adler) {
    static char *names[] = {"data", "value", "simd", NULL};
    Py_buffer v;
    unsigned long value = start;
    int simd = 1;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "y*|kp", names, &v, &value, &simd)) return NULL;
    uint32_t r = adler ? ls_adler32((uint32_t)value, v.buf, (size_t)v.len, use_simd(simd))
                       : ls_crc32((uint32_t)value, v.buf, (size_t)v.len, use_simd(simd));
    PyBuffer_Release(&v);
    return PyLong_FromUnsignedLong(r);
}

static PyObject *crc32(PyObject *self, PyObject *args, PyObject *kw) { return checksum(args, kw, 0, 0); }
static PyObject *adler32(PyObject *self, PyObject *args, PyObject *kw) { return checksum(args, kw, 1, 1); }
static PyObject *has_avx2(PyObject *self, PyObject *unused) { return PyBool_FromLong(ls_has_avx2()); }

static PyMethodDef methods[] = {
    {"encode_png", (PyCFunction)(void (*)(void))encode_png, METH_VARARGS | METH_KEYWORDS,
     "encode_png(pixels, swap_rb=False, simd=True) -> bytes\n\nA PNG (8-bit RGBA) of an (h, w, 4) uint8 "
     "array in RGBA order (BGRA with swap_rb). simd=False takes the portable path (same bytes)."},
    {"warp_unpremultiply", (PyCFunction)(void (*)(void))warp_unpremultiply, METH_VARARGS | METH_KEYWORDS,
     "warp_unpremultiply(src, dst, m, simd=True)\n\nBilinear warp of a premultiplied (h, w, 4) uint16 crop into "
     "straight-alpha uint8 dst; m = (a, b, c, d, e, f) maps a dst pixel (x, y) to the source point "
     "(a x + b y + c, d x + e y + f)."},
    {"crc32", (PyCFunction)(void (*)(void))crc32, METH_VARARGS | METH_KEYWORDS, "crc32(data, value=0, simd=True)"},
    {"adler32", (PyCFunction)(void (*)(void))adler32, METH_VARARGS | METH_KEYWORDS,
     "adler32(data, value=1, simd=True)"},
    {"has_avx2", has_avx2, METH_NOARGS, "has_avx2() -> bool: whether the SIMD paths run on this CPU"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "lipsync_native",
                                    "Lip-sync Studio's native fast path: PNG encoder and fused warp kernel.", -1,
                                    methods};

PyMODINIT_FUNC PyInit_lipsync_native(void) {
    ls_crc_init();
    ls_png_init();
    PyObject *m = PyModule_Create(&module);
    if (m && PyModule_AddStringConstant(m, "VERSION", LS_NATIVE_VERSION) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
