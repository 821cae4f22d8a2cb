import Box from "@mui/material/Box";
import Card from "@mui/material/Card";
import CardContent from "@mui/material/CardContent";
import Typography from "@mui/material/Typography";
import type { ReactNode } from "react";

interface DashCardProps {
  id: string;
  title: string;
  /** The number that matters, written out beside the chart or list ("1,204 received · 312 sent"). */
  figure?: ReactNode;
  /** Under the figure, in the secondary colour. */
  caption?: ReactNode;
  /** At the right of the title, e.g. a link. */
  action?: ReactNode;
  children?: ReactNode;
}

/** One titled block of the dashboard, labelled for assistive technology. */
export function DashCard({ id, title, figure, caption, action, children }: DashCardProps) {
  return (
    <Card variant="outlined" component="section" aria-labelledby={`${id}-title`} sx={{ minWidth: 0 }}>
      <CardContent sx={{ p: { xs: 2, sm: 2.5 }, "&:last-child": { pb: { xs: 2, sm: 2.5 } } }}>
        <Box sx={{ display: "flex", alignItems: "center", gap: 1, flexWrap: "wrap", minHeight: 30 }}>
          <Typography id={`${id}-title`} variant="subtitle1" component="h2" sx={{ fontWeight: 600, flexGrow: 1 }}>
            {title}
          </Typography>
          {action}
        </Box>
        {figure !== undefined && (
          <Typography
            variant="h5"
            component="p"
            data-testid={`${id}-figure`}
            sx={{ mt: 0.5, fontWeight: 600, fontVariantNumeric: "tabular-nums" }}
          >
            {figure}
          </Typography>
        )}
        {caption !== undefined && (
          <Typography variant="body2" color="text.secondary">
            {caption}
          </Typography>
        )}
        {children}
      </CardContent>
    </Card>
  );
}
