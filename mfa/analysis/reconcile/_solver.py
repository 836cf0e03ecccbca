"""Weighted least squares under the balance constraints, in closed form, batched over cells."""

from __future__ import annotations

import numpy as np

_TOL = 1e-9  # rank and zero tolerance on orthonormal bases of 0/±1 incidence matrices


# ------------------------------------------------------------------------------ algebra
def _structure(a: np.ndarray, mask: np.ndarray) -> dict[str, np.ndarray]:
    """Projection and classification for one measurement pattern (Crowe et al. 1983).

    Returns ``B`` (dof, n_measured) with orthonormal rows spanning the constraints on the
    measurements alone, ``G = pinv(A_z) A_y`` (n_unknown, n_measured), and the boolean
    ``redundant`` (per measured) and ``observable`` (per unknown).
    """
    a_y, a_z = a[:, mask], a[:, ~mask]
    m, n_u = a_z.shape
    if n_u and m:
        u, sv, vt = np.linalg.svd(a_z)
        rank = int((sv > _TOL * sv[0]).sum()) if sv.size and sv[0] > 0 else 0
        projected = u[:, rank:].T @ a_y
        observable = np.linalg.norm(vt[rank:], axis=0) < 1e-8
        g = np.linalg.pinv(a_z, rcond=_TOL) @ a_y
    else:
        projected = a_y
        observable = np.zeros(n_u, dtype=bool)
        g = np.zeros((n_u, a_y.shape[1]))
    if projected.size:
        _, sv, vt = np.linalg.svd(projected)
        dof = int((sv > _TOL * max(sv[0], 1.0)).sum()) if sv.size else 0
        b = vt[:dof]
    else:
        b = np.zeros((0, a_y.shape[1]))
    redundant = np.linalg.norm(b, axis=0) > 1e-8
    b[:, ~redundant] = 0.0  # exactly: measurements that are not redundant stay as given
    return {"b": b, "g": g, "redundant": redundant, "observable": observable}


def _solve(st: dict[str, np.ndarray], y: np.ndarray, var: np.ndarray, want_cov: bool) -> dict:
    """Reconcile cells sharing one pattern: ``y``, ``var`` are (cell, measured) arrays."""
    b, g = st["b"], st["g"]
    c, n_m = y.shape
    k = b.shape[0]
    if k:
        bs = b[None, :, :] * var[:, None, :]                      # B S      (c, k, m)
        w = np.einsum("kn,cln->ckl", b, bs)                     # B S B'   (c, k, k)
        r = y @ b.T                                               # B y      (c, k)
        lam = np.linalg.solve(w, r[..., None])[..., 0]
        w_inv_bs = np.linalg.solve(w, bs)                        # W^-1 B S (c, k, m)
        y_hat = y - np.einsum("ckn,ck->cn", bs, lam)
        chi2 = np.maximum(np.einsum("ck,ck->c", r, lam), 0.0)
        v_diag = np.einsum("ckn,ckn->cn", bs, w_inv_bs)
        h = np.einsum("ckn,un->cku", bs, g)                     # B S G'   (c, k, u)
        z_var = var @ (g**2).T - np.einsum("cku,cku->cu", h, np.linalg.solve(w, h))
    else:
        y_hat, chi2, v_diag = y.copy(), np.zeros(c), np.zeros_like(y)
        z_var = var @ (g**2).T
    out = {"y_hat": y_hat, "chi2": chi2, "v_diag": v_diag, "z": -(y_hat @ g.T),
           "z_var": np.maximum(z_var, 0.0), "y_var": np.maximum(var - v_diag, 0.0)}
    if want_cov:
        cov_y = var[:, :, None] * np.eye(n_m)[None]
        if k:
            cov_y = cov_y - np.einsum("ckn,ckm->cnm", bs, w_inv_bs)
        cov_zy = -np.einsum("un,cnm->cum", g, cov_y)
        out["cov"] = (cov_y, cov_zy, -np.einsum("cum,vm->cuv", cov_zy, g))
    return out


def _solve_all(a: np.ndarray, y: np.ndarray, s: np.ndarray, want_cov: bool) -> tuple:
    """Reconcile every cell: one batched solve per distinct measurement pattern."""
    n_cells, n = y.shape
    est, sd = np.full((n_cells, n), np.nan), np.full((n_cells, n), np.nan)
    nres = np.full((n_cells, n), np.nan)
    red, obs = np.zeros((n_cells, n), bool), np.zeros((n_cells, n), bool)
    chi2, dof = np.zeros(n_cells), np.zeros(n_cells, dtype=int)
    cov = np.full((n_cells, n, n), np.nan) if want_cov else None
    patterns, inverse = np.unique(~np.isnan(y), axis=0, return_inverse=True)
    for p, mask in enumerate(patterns):
        cells = np.flatnonzero(inverse.reshape(-1) == p)
        m_idx, u_idx = np.flatnonzero(mask), np.flatnonzero(~mask)
        st = _structure(a, mask)
        res = _solve(st, y[np.ix_(cells, m_idx)], s[np.ix_(cells, m_idx)] ** 2, want_cov)
        o = st["observable"]
        est[np.ix_(cells, m_idx)] = res["y_hat"]
        sd[np.ix_(cells, m_idx)] = np.sqrt(res["y_var"])
        est[np.ix_(cells, u_idx[o])] = res["z"][:, o]
        sd[np.ix_(cells, u_idx[o])] = np.sqrt(res["z_var"][:, o])
        rd = st["redundant"]
        with np.errstate(invalid="ignore", divide="ignore"):
            nr = (y[np.ix_(cells, m_idx)] - res["y_hat"]) / np.sqrt(res["v_diag"])
        nres[np.ix_(cells, m_idx[rd])] = nr[:, rd]
        red[np.ix_(cells, m_idx)] = rd
        obs[np.ix_(cells, m_idx)] = True
        obs[np.ix_(cells, u_idx)] = o
        chi2[cells], dof[cells] = res["chi2"], st["b"].shape[0]
        if want_cov:
            cov_y, cov_zy, cov_zz = res["cov"]
            cov_zy, cov_zz = cov_zy[:, o], cov_zz[:, o][:, :, o]
            uo = u_idx[o]
            cov[np.ix_(cells, m_idx, m_idx)] = cov_y
            cov[np.ix_(cells, uo, m_idx)] = cov_zy
            cov[np.ix_(cells, m_idx, uo)] = np.swapaxes(cov_zy, 1, 2)
            cov[np.ix_(cells, uo, uo)] = cov_zz
    return est, sd, nres, red, obs, cov, chi2, dof
