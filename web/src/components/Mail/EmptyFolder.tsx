import MarkunreadMailboxOutlined from "@mui/icons-material/MarkunreadMailboxOutlined";
import Box from "@mui/material/Box";
import Typography from "@mui/material/Typography";

interface EmptyFolderProps {
  title: string;
  message?: string;
}

/** Content area of a folder (or settings) before any mailbox is connected. */
export function EmptyFolder({
  title,
  message = "No mail yet — connect a mailbox",
}: EmptyFolderProps) {
  return (
    <Box component="section" aria-labelledby="folder-title" sx={{ flexGrow: 1 }}>
      <Typography id="folder-title" variant="h5" component="h1" sx={{ mb: 2 }}>
        {title}
      </Typography>
      <Box
        sx={{
          display: "flex",
          flexDirection: "column",
          alignItems: "center",
          gap: 1,
          py: 10,
          color: "text.secondary",
          textAlign: "center",
        }}
      >
        <MarkunreadMailboxOutlined sx={{ fontSize: 48 }} aria-hidden />
        <Typography>{message}</Typography>
      </Box>
    </Box>
  );
}
