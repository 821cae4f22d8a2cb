"use client";

import CloseIcon from "@mui/icons-material/Close";
import Box from "@mui/material/Box";
import Dialog from "@mui/material/Dialog";
import DialogContent from "@mui/material/DialogContent";
import DialogTitle from "@mui/material/DialogTitle";
import IconButton from "@mui/material/IconButton";
import Typography from "@mui/material/Typography";
import { Fragment } from "react";

import { COMPOSER_KEYS, SHORTCUTS, type Shortcut } from "./shortcuts";

const GROUPS: Shortcut["group"][] = ["Move around", "Act on conversations", "Write", "Select", "Go to"];

function Keys({ keys }: { keys: string[] }) {
  return (
    <Box component="span" sx={{ display: "inline-flex", gap: 0.5, flexWrap: "wrap", justifyContent: "flex-end" }}>
      {keys.map((combo, index) => (
        <Fragment key={combo}>
          {index > 0 && (
            <Typography component="span" variant="body2" color="text.secondary">
              or
            </Typography>
          )}
          {combo.split(" ").map((key, n) => (
            <Fragment key={`${key}-${n}`}>
              {n > 0 && (
                <Typography component="span" variant="body2" color="text.secondary">
                  then
                </Typography>
              )}
              <Box
                component="kbd"
                sx={{
                  fontFamily: "inherit",
                  fontSize: 13,
                  minWidth: 24,
                  px: 0.75,
                  border: 1,
                  borderColor: "divider",
                  borderRadius: 1,
                  textAlign: "center",
                  bgcolor: "action.hover",
                }}
              >
                {key}
              </Box>
            </Fragment>
          ))}
        </Fragment>
      ))}
    </Box>
  );
}

/** The `?` sheet: every mail shortcut, grouped. */
export function ShortcutSheet({ open, onClose }: { open: boolean; onClose: () => void }) {
  return (
    <Dialog open={open} onClose={onClose} aria-labelledby="shortcut-sheet-title" maxWidth="sm" fullWidth>
      <DialogTitle id="shortcut-sheet-title" sx={{ pr: 6 }}>
        Keyboard shortcuts
      </DialogTitle>
      <IconButton aria-label="Close" onClick={onClose} sx={{ position: "absolute", right: 8, top: 8 }}>
        <CloseIcon />
      </IconButton>
      <DialogContent>
        {GROUPS.map((group) => (
          <Box key={group} component="section" aria-label={group} sx={{ mb: 2 }}>
            <Typography variant="subtitle2" component="h3" sx={{ mb: 0.5 }}>
              {group}
            </Typography>
            <Box component="dl" sx={{ m: 0 }}>
              {[
                ...SHORTCUTS.filter((shortcut) => shortcut.group === group),
                ...(group === "Write" ? COMPOSER_KEYS : []),
              ].map((shortcut) => (
                <Box
                  key={shortcut.label}
                  sx={{ display: "flex", justifyContent: "space-between", gap: 2, py: 0.5 }}
                >
                  <Typography component="dt" variant="body2">
                    {shortcut.label}
                  </Typography>
                  <Box component="dd" sx={{ m: 0 }}>
                    <Keys keys={shortcut.keys} />
                  </Box>
                </Box>
              ))}
            </Box>
          </Box>
        ))}
      </DialogContent>
    </Dialog>
  );
}
