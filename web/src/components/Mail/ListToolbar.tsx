"use client";

import CloseIcon from "@mui/icons-material/Close";
import Refresh from "@mui/icons-material/Refresh";
import Box from "@mui/material/Box";
import Checkbox from "@mui/material/Checkbox";
import IconButton from "@mui/material/IconButton";
import Tooltip from "@mui/material/Tooltip";
import Typography from "@mui/material/Typography";
import { memo } from "react";

import { ActionButtons, type ActionButtonsProps } from "./ActionButtons";

interface ListToolbarProps {
  title: string;
  selectedCount: number;
  /** Every loaded row is checked (and there is one). */
  allSelected: boolean;
  /** No row is loaded: nothing to select. */
  empty: boolean;
  onSelectAll: () => void;
  onSelectNone: () => void;
  onRefresh: () => void;
  refreshing: boolean;
  /** Actions on the selection (when there is one). */
  actions: Omit<ActionButtonsProps, "onAction"> & { onAction: ActionButtonsProps["onAction"] };
}

/**
 * Above the list: the folder's name, or with a selection its size and the bulk actions. One
 * fixed height, so checking the first row does not push the list down. Memoised, with
 * booleans rather than the loaded count: each page loaded while scrolling re-renders the mail
 * screen, and this toolbar has nothing new to show then.
 */
export const ListToolbar = memo(function ListToolbar({
  title,
  selectedCount,
  allSelected,
  empty,
  onSelectAll,
  onSelectNone,
  onRefresh,
  refreshing,
  actions,
}: ListToolbarProps) {
  const all = allSelected;
  const some = selectedCount > 0 && !all;
  return (
    <Box
      role="toolbar"
      aria-label={selectedCount > 0 ? "Selected conversations" : "Conversation list"}
      sx={{
        display: "flex",
        alignItems: "center",
        gap: 0.5,
        minHeight: 48,
        px: 0.5,
        borderBottom: 1,
        borderColor: "divider",
        overflowX: "auto",
        overflowY: "hidden",
        flex: "none",
      }}
    >
      <Tooltip title={selectedCount > 0 ? "Select none" : "Select all"}>
        <Checkbox
          checked={all}
          indeterminate={some}
          disabled={empty}
          onChange={() => (selectedCount > 0 ? onSelectNone() : onSelectAll())}
          slotProps={{ input: { "aria-label": selectedCount > 0 ? "Select none" : "Select all loaded conversations" } }}
        />
      </Tooltip>
      {selectedCount > 0 ? (
        <>
          <Typography component="span" sx={{ fontWeight: 600, mr: 1, whiteSpace: "nowrap" }} aria-live="polite">
            {selectedCount} selected
          </Typography>
          <ActionButtons {...actions} />
          <Box sx={{ flex: 1 }} />
          <Tooltip title="Clear selection">
            <IconButton aria-label="Clear selection" onClick={onSelectNone}>
              <CloseIcon />
            </IconButton>
          </Tooltip>
        </>
      ) : (
        <>
          <Typography variant="h6" component="h1" noWrap sx={{ fontSize: 18, fontWeight: 600, flex: 1, minWidth: 0 }}>
            {title}
          </Typography>
          <Tooltip title="Refresh">
            <span>
              <IconButton aria-label="Refresh" onClick={onRefresh} disabled={refreshing}>
                <Refresh />
              </IconButton>
            </span>
          </Tooltip>
        </>
      )}
    </Box>
  );
});
