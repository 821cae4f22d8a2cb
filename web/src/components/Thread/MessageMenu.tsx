"use client";

import ArticleOutlined from "@mui/icons-material/ArticleOutlined";
import CodeOutlined from "@mui/icons-material/CodeOutlined";
import DownloadOutlined from "@mui/icons-material/DownloadOutlined";
import Forward from "@mui/icons-material/Forward";
import MoreVert from "@mui/icons-material/MoreVert";
import Reply from "@mui/icons-material/Reply";
import ReplyAll from "@mui/icons-material/ReplyAll";
import Divider from "@mui/material/Divider";
import IconButton from "@mui/material/IconButton";
import ListItemIcon from "@mui/material/ListItemIcon";
import ListItemText from "@mui/material/ListItemText";
import Menu from "@mui/material/Menu";
import MenuItem from "@mui/material/MenuItem";
import Tooltip from "@mui/material/Tooltip";
import { useId, useState } from "react";

import { downloadOriginal, openOriginal } from "@/api/thread";

import type { BodyView } from "./MessageBody";

interface MessageMenuProps {
  messageId: number;
  /** The view shown now, and whether the other one exists (both HTML and text). */
  view: BodyView;
  canSwitchView: boolean;
  onSwitchView: () => void;
  onError: (message: string) => void;
  /** Answer this message (absent where there is no composer). */
  onReply?: () => void;
  onReplyAll?: () => void;
  onForward?: () => void;
}

/** A message's own actions: its original source, and plain text or formatted. */
export function MessageMenu({
  messageId,
  view,
  canSwitchView,
  onSwitchView,
  onError,
  onReply,
  onReplyAll,
  onForward,
}: MessageMenuProps) {
  const [anchor, setAnchor] = useState<HTMLElement | null>(null);
  const menuId = useId();
  const close = () => setAnchor(null);
  const answers = [
    { label: "Reply", icon: <Reply fontSize="small" />, run: onReply },
    { label: "Reply all", icon: <ReplyAll fontSize="small" />, run: onReplyAll },
    { label: "Forward", icon: <Forward fontSize="small" />, run: onForward },
  ].flatMap((item) => (item.run ? [{ ...item, run: item.run }] : []));

  const run = (action: () => Promise<void>, failure: string) => {
    close();
    action().catch(() => onError(failure));
  };

  return (
    <>
      <Tooltip title="More">
        <IconButton
          size="small"
          aria-label="More options for this message"
          aria-haspopup="menu"
          aria-expanded={anchor !== null}
          aria-controls={anchor !== null ? menuId : undefined}
          onClick={(event) => {
            event.stopPropagation();
            setAnchor(event.currentTarget);
          }}
        >
          <MoreVert fontSize="small" />
        </IconButton>
      </Tooltip>
      <Menu id={menuId} anchorEl={anchor} open={anchor !== null} onClose={close}>
        {answers.map(({ label, icon, run: answer }) => (
          <MenuItem
            key={label}
            onClick={() => {
              close();
              answer();
            }}
          >
            <ListItemIcon>{icon}</ListItemIcon>
            <ListItemText>{label}</ListItemText>
          </MenuItem>
        ))}
        {answers.length > 0 && <Divider />}
        {canSwitchView && (
          <MenuItem
            onClick={() => {
              close();
              onSwitchView();
            }}
          >
            <ListItemIcon>
              <ArticleOutlined fontSize="small" />
            </ListItemIcon>
            <ListItemText>{view === "html" ? "Show plain text" : "Show formatted message"}</ListItemText>
          </MenuItem>
        )}
        <MenuItem onClick={() => run(() => openOriginal(messageId), "Couldn't open the original message. Try again.")}>
          <ListItemIcon>
            <CodeOutlined fontSize="small" />
          </ListItemIcon>
          <ListItemText>View original</ListItemText>
        </MenuItem>
        <MenuItem
          onClick={() => run(() => downloadOriginal(messageId), "Couldn't download the original message. Try again.")}
        >
          <ListItemIcon>
            <DownloadOutlined fontSize="small" />
          </ListItemIcon>
          <ListItemText>Download message (.eml)</ListItemText>
        </MenuItem>
      </Menu>
    </>
  );
}
