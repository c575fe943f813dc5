"""SAM 2's prompt encoder and mask decoder, with the work that does not depend on the prompts done once
per tile.

Per click, Meta's ``MaskDecoder.forward`` re-does for the same tile: adding the no-mask embedding to the
image embedding, flattening it and its positional encoding, repeating the positional encoding, and, in the
first two-way attention block, projecting the image tokens to keys and values (tokens -> image) and to
queries (image -> tokens). Those depend only on the tile, so ``FastMaskDecoder`` computes them once and
then runs the rest with the same weights.

The other cross-attentions between the few prompt tokens (n of them) and the many image tokens (N = HW) are
re-associated so that no N x C projection is ever formed: with tokens -> image, the query heads are folded
into the key weights (scores = (q_h W_k,h) X^T) and the value projection is applied after averaging
(P_h X) W_v,h^T, exact since each softmax row sums to one; with image -> tokens, the key and output
projections are folded into (C x H n) and (H n x C) matrices. That is about half the multiply-adds of the
projections, the cost that dominates the decoder on a CPU. Results equal ``MaskDecoder.forward`` to float
rounding (tests compare both on random prompts).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

import torch
from sam2.modeling.sam.transformer import Attention, TwoWayAttentionBlock
from sam2.modeling.sam2_base import SAM2Base
from torch.nn import functional

from core.errors import stop_if


@dataclass(frozen=True)
class TilePrecompute:
    """Prompt-independent decoder inputs of one tile; (1, N, C) token layouts, heads as (1, H, N, C/H)."""

    keys: torch.Tensor  # image embedding + no-mask embedding, (1, HW, C)
    shape: tuple[int, int, int]  # (C, h, w) of the image embedding
    first_keys: torch.Tensor  # layer 0, tokens -> image: projected keys, heads
    first_values: torch.Tensor  # layer 0, tokens -> image: projected values, heads
    first_image_queries: torch.Tensor  # layer 0, image -> tokens: projected queries, heads
    high_res: tuple[torch.Tensor, torch.Tensor]  # (1, C0, 4h, 4w), (1, C1, 2h, 2w), channels-last


def _heads(attention: Attention, x: torch.Tensor) -> torch.Tensor:
    return attention._separate_heads(x, attention.num_heads)


def tokens_to_image(attention: Attention, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """``attention(q=q, k=k, v=v)`` for few queries (1, n, C) over many keys/values (1, N, C)."""
    heads, dim = attention.num_heads, attention.internal_dim // attention.num_heads
    n, channels = q.shape[1], k.shape[2]
    query = attention.q_proj(q)[0].view(n, heads, dim)
    key_weight = attention.k_proj.weight.view(heads, dim, channels)
    folded = torch.einsum("nhd,hdc->hnc", query, key_weight).reshape(heads * n, channels)
    # The key bias adds q_h . b_k,h to a whole softmax row: it cannot change the result, so it is left out.
    scores = (folded @ k[0].T).view(heads, n, -1) * dim**-0.5
    averaged = (torch.softmax(scores, dim=-1).reshape(heads * n, -1) @ v[0]).view(heads, n, channels)
    value_weight = attention.v_proj.weight.view(heads, dim, channels)
    out = torch.einsum("hnc,hdc->nhd", averaged, value_weight) + attention.v_proj.bias.view(1, heads, dim)
    return attention.out_proj(out.reshape(1, n, heads * dim))


def _softmax_short_rows(scores: torch.Tensor) -> torch.Tensor:
    """Softmax over a short last dimension (a handful of prompt tokens), in place: several times faster on a
    CPU than ``torch.softmax`` for many rows of a few values."""
    scores = (scores - scores.amax(dim=-1, keepdim=True)).exp_()
    return scores.div_(scores.sum(dim=-1, keepdim=True))


def image_to_tokens(
    attention: Attention, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, projected_q: torch.Tensor | None = None
) -> torch.Tensor:
    """``attention(q=q, k=k, v=v)`` for many queries (1, N, C) over few keys/values (1, n, C).

    ``projected_q`` (1, H, N, C/H), if given, is ``q`` already projected (precomputed per tile).
    """
    heads, dim = attention.num_heads, attention.internal_dim // attention.num_heads
    n, channels = k.shape[1], k.shape[2]
    key = attention.k_proj(k)[0].view(n, heads, dim)
    value = attention.v_proj(v)[0].view(n, heads, dim)
    out_weight = attention.out_proj.weight.view(channels, heads, dim)
    value_out = torch.einsum("nhd,chd->hnc", value, out_weight).reshape(heads * n, channels)
    if projected_q is not None:
        scores = torch.matmul(projected_q[0], key.permute(1, 2, 0))  # (H, N, n)
        weights = _softmax_short_rows(scores * dim**-0.5).permute(1, 0, 2).reshape(-1, heads * n)
    else:
        query_weight = attention.q_proj.weight.view(heads, dim, channels)
        folded = torch.einsum("hdc,nhd->chn", query_weight, key).reshape(channels, heads * n)
        bias = torch.einsum("hd,nhd->hn", attention.q_proj.bias.view(heads, dim), key).reshape(heads * n)
        scores = torch.addmm(bias, q[0], folded).view(-1, heads, n)  # (N, H, n)
        weights = _softmax_short_rows(scores * dim**-0.5).reshape(-1, heads * n)
    return torch.addmm(attention.out_proj.bias, weights, value_out)[None]


def _attend(attention: Attention, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """Attention.forward after the input projections (q, k, v already projected and split into heads)."""
    out = functional.scaled_dot_product_attention(q, k, v)
    return attention.out_proj(attention._recombine_heads(out))


class FastMaskDecoder:
    """Decodes prompts on tiles of one model; keeps the precomputed inputs of the last ``tiles`` tiles."""

    def __init__(self, model: SAM2Base, tiles: int = 4) -> None:
        self.model = model
        self.decoder = model.sam_mask_decoder
        self.prompt_encoder = model.sam_prompt_encoder
        self.tiles = tiles
        self._cache: OrderedDict[str, TilePrecompute] = OrderedDict()
        with torch.inference_mode():
            image_pe = self.prompt_encoder.get_dense_pe()
            self.key_pe = image_pe.flatten(2).permute(0, 2, 1)  # (1, HW, C)

    def prepare(self, key: str, image_embed: torch.Tensor, high_res: tuple[torch.Tensor, ...]) -> TilePrecompute:
        """The precomputed inputs for a tile (``image_embed`` (C, h, w) and its two high-res maps)."""
        if key in self._cache:
            self._cache.move_to_end(key)
            return self._cache[key]
        device = self.key_pe.device
        with torch.inference_mode():
            embed = image_embed[None].to(device)
            _, dense = self.prompt_encoder(points=None, boxes=None, masks=None)  # the no-mask embedding
            keys = (embed + dense).flatten(2).permute(0, 2, 1)
            first = self.decoder.transformer.layers[0]
            keys_pe = keys + self.key_pe
            tokens_to_image, image_to_tokens = first.cross_attn_token_to_image, first.cross_attn_image_to_token
            tile = TilePrecompute(
                keys=keys,
                shape=(int(embed.shape[1]), int(embed.shape[2]), int(embed.shape[3])),
                first_keys=_heads(tokens_to_image, tokens_to_image.k_proj(keys_pe)),
                first_values=_heads(tokens_to_image, tokens_to_image.v_proj(keys)),
                first_image_queries=_heads(image_to_tokens, image_to_tokens.q_proj(keys_pe)),
                high_res=(
                    high_res[0][None].to(device).contiguous(memory_format=torch.channels_last),
                    high_res[1][None].to(device).contiguous(memory_format=torch.channels_last),
                ),
            )
        self._cache[key] = tile
        while len(self._cache) > self.tiles:
            self._cache.popitem(last=False)
        return tile

    def _block(
        self,
        layer: TwoWayAttentionBlock,
        queries: torch.Tensor,
        keys: torch.Tensor,
        query_pe: torch.Tensor,
        tile: TilePrecompute | None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """TwoWayAttentionBlock.forward; ``tile`` given for the first block (its image projections precomputed)."""
        if layer.skip_first_layer_pe:
            queries = layer.self_attn(q=queries, k=queries, v=queries)
        else:
            q = queries + query_pe
            queries = queries + layer.self_attn(q=q, k=q, v=queries)
        queries = layer.norm1(queries)

        to_image = layer.cross_attn_token_to_image
        q = queries + query_pe
        if tile is not None:
            attn_out = _attend(to_image, _heads(to_image, to_image.q_proj(q)), tile.first_keys, tile.first_values)
        else:
            keys_pe = keys + self.key_pe
            attn_out = tokens_to_image(to_image, q, keys_pe, keys)
        queries = layer.norm2(queries + attn_out)

        queries = layer.norm3(queries + layer.mlp(queries))

        to_tokens = layer.cross_attn_image_to_token
        q = queries + query_pe
        if tile is not None:
            attn_out = image_to_tokens(to_tokens, tile.keys, q, queries, projected_q=tile.first_image_queries)
        else:
            attn_out = image_to_tokens(to_tokens, keys_pe, q, queries)
        keys = layer.norm4(keys + attn_out)
        return queries, keys

    def decode(
        self,
        tile: TilePrecompute,
        coords: torch.Tensor,
        labels: torch.Tensor,
        multimask: bool,
        cancelled: Callable[[], bool] | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Low-resolution mask logits (1, m, 4h, 4w) and IoU predictions (1, m), as MaskDecoder.forward.

        ``coords`` (1, n, 2) in model input pixels (box corners first, labelled 2 and 3), ``labels`` (1, n).
        ``cancelled`` is asked between stages (a hover the mouse has left): CancelledError stops the decode there.
        """
        decoder, transformer = self.decoder, self.decoder.transformer
        with torch.inference_mode():
            sparse, _ = self.prompt_encoder(points=(coords, labels), boxes=None, masks=None)
            s = 1 if decoder.pred_obj_scores else 0
            weights = [decoder.iou_token.weight, decoder.mask_tokens.weight]
            if decoder.pred_obj_scores:
                weights.insert(0, decoder.obj_score_token.weight)
            tokens = torch.cat((torch.cat(weights, dim=0).unsqueeze(0), sparse), dim=1)

            queries, keys = tokens, tile.keys
            for index, layer in enumerate(transformer.layers):
                stop_if(cancelled)
                queries, keys = self._block(layer, queries, keys, tokens, tile if index == 0 else None)
            stop_if(cancelled)
            final = transformer.final_attn_token_to_image
            attn_out = tokens_to_image(final, queries + tokens, keys + self.key_pe, keys)
            hs = transformer.norm_final_attn(queries + attn_out)

            # Upscaling in channels-last layout: the token layout (1, HW, C) already is one, and oneDNN's
            # transposed convolutions are several times faster on it.
            channels, h, w = tile.shape
            src = keys.view(1, h, w, channels).permute(0, 3, 1, 2)
            dc1, ln1, act1, dc2, act2 = decoder.output_upscaling
            feat_s0, feat_s1 = tile.high_res
            upscaled = act1(ln1(dc1(src) + feat_s1))
            stop_if(cancelled)
            upscaled = act2(dc2(upscaled) + feat_s0)
            stop_if(cancelled)
            mask_tokens = hs[:, s + 1 : s + 1 + decoder.num_mask_tokens, :]
            hyper_in = torch.stack(
                [mlp(mask_tokens[:, i, :]) for i, mlp in enumerate(decoder.output_hypernetworks_mlps)], dim=1
            )
            _, c, uh, uw = upscaled.shape
            pixels = upscaled.permute(0, 2, 3, 1).reshape(uh * uw, c)  # no copy: channels-last
            masks = (pixels @ hyper_in[0].T).T.reshape(1, -1, uh, uw)
            iou = decoder.iou_prediction_head(hs[:, s, :])

            if multimask:
                return masks[:, 1:], iou[:, 1:]
            if decoder.dynamic_multimask_via_stability:
                return decoder._dynamic_multimask_via_stability(masks, iou)
            return masks[:, 0:1], iou[:, 0:1]
